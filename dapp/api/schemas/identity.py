"""The caller's own account: registration and requests to join, profile, wallet binding, logout."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from dapp.api.schemas.common import MAX_ID, BodyId, JsonInt, Line, StrictModel
from lec.db.enums import EnergyProfile, MemberKind
from lec.db.models import RegistrationBase, RegistrationStatus

Name = Annotated[Line, Field(min_length=1, max_length=128)]
# Patterns spell their classes out: `\s` and `\d` mean more characters to Python than to the ECMA-262 regexes
# the OpenAPI schema is read with, and the API would accept what its schema refuses (or the reverse).
_NOT_IN_ADDRESS = "@\\x00-\\x20\\x7f-\\x9f"
Email = Annotated[
    str, Field(pattern=rf"^[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}]+\.[^{_NOT_IN_ADDRESS}]+$", max_length=255)
]


class ProfileFields(StrictModel):
    """Registry data a person may give at registration and change later (report §4.1.1)."""

    address: Line | None = Field(default=None, max_length=255)
    zip: str | None = Field(default=None, pattern=r"^[0-9]{5}$")
    city: Line | None = Field(default=None, max_length=64)
    province: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    fiscal_code: str | None = Field(default=None, pattern=r"^[A-Z0-9]{11,16}$")


class RegistrationCreate(RegistrationBase):
    """A request to join one community (a registered person asking for one more)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # type: ignore[assignment]

    # Not `BodyId`: in a subclass of a SQLModel table base, constraints in `Annotated` reach the JSON schema as
    # "ge"/"le" (unknown keywords, so a client or a fuzzer never sees the range); a Field default keeps them.
    community_id: JsonInt = Field(ge=1, le=MAX_ID)


class UserRegister(ProfileFields, RegistrationCreate):  # type: ignore[misc]  # both bases are strict bodies
    """The sign-up form: a Keycloak account, the registry data, and the first request to join."""

    email: Email
    password: str = Field(min_length=12, max_length=128)
    name: Name
    surname: Name


class RegistrationPublic(RegistrationBase):
    id: int
    wallet: str | None
    status: RegistrationStatus
    created_at: datetime
    decided_at: datetime | None
    tx_hash: str | None


class RegistrationAccepted(BaseModel):
    """The answer to an anonymous registration: the same whether or not the address already had an account."""

    message: str = (
        "Thank you. We have sent an e-mail to the address you gave: follow its link to verify the address (or, if "
        "you already have an account, to sign in), then log in, bind your wallet and wait for the community "
        "admin's approval."
    )


class ProfileUpdate(ProfileFields):
    name: Name | None = None
    surname: Name | None = None
    email: Email | None = None


class ChallengeRequest(StrictModel):
    community_id: BodyId
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class Challenge(BaseModel):
    nonce: str
    message: str
    expires_at: datetime


class WalletBinding(StrictModel):
    message: str = Field(min_length=1, max_length=4000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class LogoutRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=8000)
    client_id: str = Field(default="lec-dapp", max_length=64)


class MembershipPublic(BaseModel):
    """A membership as its member sees it (the row of `user_communities`)."""

    model_config = ConfigDict(from_attributes=True)

    community_id: BodyId
    wallet: str | None
    member_kind: MemberKind
    energy_profile: EnergyProfile
    active: bool


class MePublic(BaseModel):
    subject: str
    username: str
    roles: list[str]
    registered: bool
    name: str | None = None
    surname: str | None = None
    email: str | None = None
    address: str | None = None
    zip: str | None = None
    city: str | None = None
    province: str | None = None
    memberships: list[MembershipPublic] = []
    registrations: list[RegistrationPublic] = []
