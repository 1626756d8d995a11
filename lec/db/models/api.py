"""Tables only the API needs: SIWE nonces, registration requests, the audit log and the dashboards' read model.

Everything else (users, communities, memberships with wallets, devices, readings) is the report's schema in
:mod:`lec.db.models.report`, reused as is. A resource the API exposes is layered as in the FastAPI template:
its `XBase` (the fields a client may send or see, with their constraints) is declared here and the table
derives from it; the API's `XCreate` bodies and `XPublic` views derive from the same base in
:mod:`dapp.api.schemas`, so a field is declared once.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lec.db.enums import EnergyProfile, MemberKind
from lec.db.types import UtcDateTime, enum_type, utcnow


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the wallet binding and the community admin's decision
    APPROVED = "approved"  # member on chain
    REJECTED = "rejected"


class SiweNonce(SQLModel, table=True):
    """A nonce handed out for one Sign-In-With-Ethereum message; used once, then kept to refuse replays."""

    __tablename__ = "api_siwe_nonces"

    nonce: str = Field(primary_key=True, max_length=64)
    subject: str = Field(max_length=64, index=True)  # the Keycloak subject that asked for it
    community_id: int = Field(foreign_key="communities.id")
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class RegistrationBase(SQLModel):
    """What a person asks for when joining a community."""

    community_id: int = Field(foreign_key="communities.id", index=True)
    # Enums arrive as JSON strings: accepted from their values even by the API's strict request bodies.
    member_kind: MemberKind = Field(sa_type=enum_type(MemberKind), schema_extra={"strict": False})
    energy_profile: EnergyProfile = Field(sa_type=enum_type(EnergyProfile), schema_extra={"strict": False})


class RegistrationRequest(RegistrationBase, table=True):
    """A person's request to join one community, from registration to the admin's decision."""

    __tablename__ = "api_registration_requests"
    __table_args__ = (sa.UniqueConstraint("user_id", "community_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    wallet: str | None = Field(default=None, max_length=42)
    status: RegistrationStatus = Field(default=RegistrationStatus.PENDING, sa_type=enum_type(RegistrationStatus))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    tx_hash: str | None = Field(default=None, max_length=66)


class AuditEntry(SQLModel, table=True):
    """What happened, when, in which community and with which transaction — never who (no personal data).

    A right-to-be-forgotten deletion must leave a trace that it was honoured without keeping the person.
    """

    __tablename__ = "api_audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    action: str = Field(max_length=64)
    community_id: int | None = None
    detail: str | None = Field(default=None, sa_type=sa.Text)
    tx_hash: str | None = Field(default=None, max_length=66)


class MemberDailyKpiBase(SQLModel):
    """One member's energy for one local day, as the dashboards show it.

    Wh as integers; `load_wh` and `production_wh` are magnitudes; injection/withdrawal are what the member's
    grid point exchanged (summed per quarter hour, never netted over the day).
    """

    day: int = Field(sa_column_kwargs={"autoincrement": False})  # YYYYMMDD, Europe/Rome
    load_wh: int = 0
    production_wh: int = 0
    self_consumption_wh: int = 0
    injection_wh: int = 0
    withdrawal_wh: int = 0
    peak_w: int = 0
    samples: int = 0


class MemberDailyKpi(MemberDailyKpiBase, table=True):
    """The dashboards' read model, pre-aggregated from the readings (refreshed after ingestion or on demand)."""

    __tablename__ = "api_member_daily_kpis"
    # The key is declared here rather than on the fields so that it keeps its order (community, user, day) while
    # `day` comes first among the fields the dashboards show.
    __table_args__ = (
        sa.PrimaryKeyConstraint("community_id", "user_id", "day"),
        sa.Index("ix_api_member_daily_kpis_user_community_day", "user_id", "community_id", "day"),
    )

    community_id: int = Field(foreign_key="communities.id")
    user_id: int = Field(foreign_key="users.id")
    imputed: int = 0
