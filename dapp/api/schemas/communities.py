"""Communities, their members and devices (views of the report's tables, which have no Base of their own)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dapp.api.schemas.common import BodyId, Line, StrictModel
from lec.db.enums import DeviceKind, DeviceStatus, EnergyProfile, MemberKind
from lec.db.models import Device


class CommunityPublic(BaseModel):
    """A community's public card: `id` is the platform's, `chain_community_id` the Registry's (None until
    deployed on chain)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    chain_community_id: int | None


class MemberPublic(BaseModel):
    user_id: BodyId
    name: str
    surname: str
    wallet: str | None
    member_kind: MemberKind
    energy_profile: EnergyProfile
    active: bool
    joined_at: datetime


class DevicePublic(BaseModel):
    id: int
    pod: str
    name: str
    kind: DeviceKind
    status: DeviceStatus
    user_id: BodyId | None
    gateway: str | None
    default_flow_id: BodyId | None
    latitude: float | None = None
    longitude: float | None = None


class DeviceCreate(StrictModel):
    pod: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    name: Line = Field(min_length=1, max_length=128)
    kind: DeviceKind = Field(strict=False)  # enums arrive as JSON strings
    user_id: BodyId | None = None
    gateway: Line | None = Field(default=None, min_length=1, max_length=64, description="Client id of its gateway.")
    default_flow_id: BodyId | None = None
    min_energy_wh: float | None = None
    max_energy_wh: float | None = None
    max_power_w: float | None = Field(default=None, gt=0)


def device_public(d: Device, gateway: str | None) -> DevicePublic:
    assert d.id is not None
    return DevicePublic(
        id=d.id,
        pod=d.pod,
        name=d.name,
        kind=d.kind,
        status=d.status,
        user_id=d.user_id,
        gateway=gateway,
        default_flow_id=d.default_flow_id,
        # The community map needs the neighbourhood, not the doorstep: about 100 m of precision.
        latitude=None if d.latitude is None else round(d.latitude, 3),
        longitude=None if d.longitude is None else round(d.longitude, 3),
    )
