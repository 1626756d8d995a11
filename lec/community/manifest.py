"""The community manifest (docs/onboarding.md): what a community admin writes to put a real community on the
platform — the community, its suppliers and flows (report tables 16, 14, 10), members with their POD and
primary substation, devices, and plants.

Parsing is strict: an unknown field, a missing one or a wrong value is refused with its path
(``members[2].pod``) and, for a file that is not JSON, its line and column. Cross-references (a device's member,
a plant's substation, a device's flows) are checked here too, before anything touches the database.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ZONES = ("NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD")
QUANTITY_OF_KIND = {
    "consumption_meter": "load",
    "production_meter": "production",
    "exchange_meter": "exchange",
    "battery": "storage",
    "weather_station": "weather",
}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_CODE = r"^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,63}$"
MAX_MANIFEST_BYTES = 5_000_000


class ManifestError(ValueError):
    """A manifest that cannot be imported; ``problems`` lists each fault as "path: sentence"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        super().__init__(f"The manifest cannot be imported: {shown}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class CommunitySpec(_Strict):
    chain_id: int = Field(ge=1, description="The community's id in the Registry on chain.")
    name: str = Field(min_length=1, max_length=64)
    zone: Literal["NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD"]
    region: Literal["north", "centre", "south"]
    description: str | None = Field(default=None, max_length=255)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    split_key: Literal["pro_rata", "equal", "producers_consumers"] = "pro_rata"
    producers_pct: int = Field(default=50, ge=0, le=100)
    allocation: Literal["seniority", "pro_rata"] = "seniority"


class SupplierSpec(_Strict):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=255)


class FlowSpec(_Strict):
    name: str = Field(pattern=_CODE)
    supplier: str = Field(min_length=1, max_length=64)
    quantity: Literal["load", "production", "exchange", "storage", "weather"]
    accountconsumption: Literal["none", "consumption", "production"] = "none"
    channel: Literal["file", "sftp", "mqtt", "rest"] = "file"
    frequency: Literal["quarter_hour", "hour", "day"] = "quarter_hour"
    description: str | None = Field(default=None, max_length=255)


Account = Annotated[str, Field(min_length=42, max_length=42)]


class MemberSpec(_Strict):
    account: Account
    kind: Literal["citizen", "stakeholder"]
    profile: Literal["consumer", "prosumer", "prostormer"]
    pod: str = Field(pattern=_CODE)
    substation: str = Field(pattern=_CODE)
    name: str | None = Field(default=None, max_length=128)
    surname: str | None = Field(default=None, max_length=128)
    email: str | None = Field(default=None, max_length=255)

    @field_validator("account")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _ADDRESS.match(value):
            raise ValueError("is not a wallet address (0x followed by 40 hexadecimal digits)")
        return value


class DeviceSpec(_Strict):
    id: str = Field(pattern=_CODE)
    member: Account | None = None
    kind: Literal["consumption_meter", "production_meter", "exchange_meter", "battery", "weather_station"]
    flows: list[str] = Field(default_factory=list)
    name: str | None = Field(default=None, max_length=128)
    max_power_w: float | None = Field(default=None, gt=0)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class PlantSpec(_Strict):
    id: str = Field(pattern=_CODE)
    member: Account
    source: Literal["pv", "wind", "hydro", "biomass", "biogas", "geothermal", "other"]
    kw: float = Field(gt=0, le=1_000_000)
    commissioned: date
    new_plant: bool = True
    pnrr_grant_pct: float = Field(default=0, ge=0, le=40)
    substation: str = Field(pattern=_CODE)


class Manifest(_Strict):
    community: CommunitySpec
    suppliers: list[SupplierSpec] = Field(default_factory=list)
    flows: list[FlowSpec] = Field(default_factory=list)
    members: list[MemberSpec] = Field(default_factory=list)
    devices: list[DeviceSpec] = Field(default_factory=list)
    plants: list[PlantSpec] = Field(default_factory=list)


# The flows a community gets when its manifest names none: one per quantity from its distribution operator,
# with the accounting flag of table 10 (load counts as consumption, production as production).
DEFAULT_SUPPLIER = SupplierSpec(name="DSO", description="The distribution system operator's meter data")
DEFAULT_FLOWS = (
    FlowSpec(name="dso-load-15min", supplier="DSO", quantity="load", accountconsumption="consumption"),
    FlowSpec(name="dso-production-15min", supplier="DSO", quantity="production", accountconsumption="production"),
    FlowSpec(name="dso-exchange-15min", supplier="DSO", quantity="exchange"),
    FlowSpec(name="gateway-storage-15min", supplier="DSO", quantity="storage"),
    FlowSpec(name="station-weather-15min", supplier="DSO", quantity="weather"),
)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the whole manifest)"


_SENTENCES = {
    "extra_forbidden": "is not a field of the manifest (check its spelling in docs/onboarding.md)",
    "missing": "is required",
}


def parse_manifest(text: str | bytes) -> Manifest:
    """The manifest from its JSON text, or :class:`ManifestError` naming every fault by path or line."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError([f"the file is larger than {MAX_MANIFEST_BYTES // 1_000_000} MB"])
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise ManifestError(["the file is not UTF-8 text"]) from None
    except json.JSONDecodeError as exc:
        raise ManifestError([f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"]) from None
    return validate_manifest(data)


def validate_manifest(data: object) -> Manifest:
    """The manifest from parsed JSON (the API's body), or :class:`ManifestError` naming every fault by path."""
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            sentence = _SENTENCES.get(error["type"], error["msg"].removeprefix("Value error, "))
            problems.append(f"{_path(error['loc'])}: {sentence}")
        raise ManifestError(problems) from None
    check_references(manifest)
    return manifest


def effective_flows(manifest: Manifest) -> tuple[list[SupplierSpec], list[FlowSpec]]:
    """The manifest's suppliers and flows, or the defaults when it names no flow."""
    if manifest.flows:
        return list(manifest.suppliers), list(manifest.flows)
    suppliers = list(manifest.suppliers)
    if not any(s.name == DEFAULT_SUPPLIER.name for s in suppliers):
        suppliers.append(DEFAULT_SUPPLIER)
    return suppliers, list(DEFAULT_FLOWS)


def device_flows(device: DeviceSpec, flows: list[FlowSpec]) -> list[FlowSpec]:
    """The flows a device reports: those it names, else every flow of its quantity."""
    by_name = {f.name: f for f in flows}
    if device.flows:
        return [by_name[name] for name in device.flows]
    return [f for f in flows if f.quantity == QUANTITY_OF_KIND[device.kind]]


def _duplicates(values: list[str], where: str, field: str) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for i, value in enumerate(values):
        key = value.lower()
        if key in seen:
            problems.append(f"{where}[{i}].{field}: {value} is already {where}[{seen[key]}].{field}")
        seen.setdefault(key, i)
    return problems


def check_references(manifest: Manifest) -> None:
    """Every name a manifest uses refers to something it defines, and nothing is defined twice."""
    problems: list[str] = []
    suppliers, flows = effective_flows(manifest)
    problems += _duplicates([s.name for s in suppliers], "suppliers", "name")
    problems += _duplicates([f.name for f in flows], "flows", "name")
    problems += _duplicates([m.account for m in manifest.members], "members", "account")
    problems += _duplicates([m.pod for m in manifest.members], "members", "pod")
    problems += _duplicates([d.id for d in manifest.devices], "devices", "id")
    problems += _duplicates([p.id for p in manifest.plants], "plants", "id")
    supplier_names = {s.name for s in suppliers}
    for i, flow in enumerate(manifest.flows):
        if flow.supplier not in supplier_names:
            problems.append(f"flows[{i}].supplier: {flow.supplier} is not in suppliers")
        expected = {"load": "consumption", "production": "production"}.get(flow.quantity)
        if flow.accountconsumption != "none" and flow.accountconsumption != expected:
            problems.append(
                f"flows[{i}].accountconsumption: a {flow.quantity} flow cannot count as {flow.accountconsumption}"
            )
    members = {m.account.lower(): m for m in manifest.members}
    by_name = {f.name: f for f in flows}
    for i, device in enumerate(manifest.devices):
        quantity = QUANTITY_OF_KIND[device.kind]
        if device.member is None and device.kind != "weather_station":
            problems.append(f"devices[{i}].member: a {device.kind} belongs to a member")
        if device.member is not None and device.member.lower() not in members:
            problems.append(f"devices[{i}].member: {device.member} is not in members")
        for j, name in enumerate(device.flows):
            if name not in by_name:
                problems.append(f"devices[{i}].flows[{j}]: {name} is not in flows")
            elif by_name[name].quantity != quantity:
                problems.append(
                    f"devices[{i}].flows[{j}]: {name} carries {by_name[name].quantity}, "
                    f"a {device.kind} sends {quantity}"
                )
        if not device.flows and not device_flows(device, flows):
            problems.append(f"devices[{i}].flows: no flow of {quantity} is defined for a {device.kind}")
    for i, plant in enumerate(manifest.plants):
        owner = members.get(plant.member.lower())
        if owner is None:
            problems.append(f"plants[{i}].member: {plant.member} is not in members")
        elif owner.substation != plant.substation:
            problems.append(
                f"plants[{i}].substation: {plant.substation} differs from its member's substation {owner.substation}"
            )
    if problems:
        raise ManifestError(problems)
