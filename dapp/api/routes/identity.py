"""The caller's own account: profile, registration, wallet binding (SIWE), leaving, logout."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import select

from dapp.api.deps import PrincipalDep, SessionDep
from dapp.api.schemas import AUTH_ERRORS
from oracle.db.models import User, UserCommunity

router = APIRouter(tags=["identity"], responses=AUTH_ERRORS)


class MembershipPublic(BaseModel):
    community_id: int
    wallet: str | None
    member_kind: str
    energy_profile: str
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


@router.get("/me", response_model=MePublic)
def read_me(principal: PrincipalDep, session: SessionDep) -> MePublic:
    """Who the token says you are, your roles, and your registry data and memberships if registered."""
    user = session.exec(select(User).where(User.external_id == principal.subject)).first()
    me = MePublic(
        subject=principal.subject,
        username=principal.username,
        roles=sorted(principal.roles),
        registered=user is not None,
    )
    if user is None:
        return me
    rows = session.exec(select(UserCommunity).where(UserCommunity.user_id == user.id)).all()
    return me.model_copy(
        update={
            "name": user.name,
            "surname": user.surname,
            "email": user.email,
            "address": user.address,
            "zip": user.zip,
            "city": user.city,
            "province": user.province,
            "memberships": [
                MembershipPublic(
                    community_id=r.community_id,
                    wallet=r.wallet,
                    member_kind=r.member_kind.value,
                    energy_profile=r.energy_profile.value,
                    active=r.active,
                )
                for r in rows
            ],
        }
    )
