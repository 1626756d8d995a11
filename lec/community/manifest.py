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
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

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


# Each fault's sentence by code, in English for the CLI, the log and the API's `detail`; the dApp words the same codes
# in the reader's language (dapp/i18n/onboarding.json, `onboarding.fault.<code>`), so both always say the same.
FAULTS = {
    "too_large": "the file is larger than {mb} MB",
    "not_utf8": "the file is not UTF-8 text",
    "not_json": "line {line}, column {column}: not valid JSON",
    "unknown_field": "is not a field of the manifest (check its spelling in docs/onboarding.md)",
    "missing": "is required",
    "one_of": "must be one of {expected}",
    "code_format": "must be a code of letters, digits and . _ : # / - (at most 64 characters, no spaces)",
    "too_short": "must have at least {min_length} characters",
    "too_long": "must have at most {max_length} characters",
    "too_small": "must be at least {limit}",
    "not_above": "must be above {limit}",
    "too_large_value": "must be at most {limit}",
    "not_integer": "must be a whole number",
    "not_number": "must be a number",
    "not_boolean": "must be true or false",
    "not_date": "must be a date written YYYY-MM-DD",
    "not_text": "must be text in quotes",
    "not_list": "must be a list in square brackets",
    "not_object": "must be an object in curly braces",
    "not_address": "is not a wallet address (0x followed by 40 hexadecimal digits)",
    "invalid": "has a value the manifest does not accept",
    "duplicate": "{value} is already {other}",
    "not_defined": "{value} is not in {where}",
    "flag_mismatch": "a {quantity} flow cannot count as {flag}",
    "needs_member": "a {kind} belongs to a member",
    "flow_quantity": "{flow} carries {carries}, a {kind} sends {quantity}",
    "no_flow": "no flow of {quantity} is defined for a {kind}",
    "plant_substation": "{substation} differs from its member's substation {member_substation}",
    "existing_over_30": (
        "plants in service before the community (new_plant false) total {existing_kw} kW, {pct} % of the "
        "community's {total_kw} kW: at most 30 % may be existing plants (D.Lgs. 199/2021 art. 31)"
    ),
    "name_taken": "{name} is already the name of another community",
    "name_on_chain": "{name} is community {other} on chain, not {chain_id}",
    "flow_carries": "the flow {flow} already carries {carries}; give it a new name",
    "device_elsewhere": "{value} is already a device of another community",
}


@dataclass(frozen=True)
class Fault:
    """One fault of a manifest: where (``members[2].pod``, or ``""`` for the whole file), what (a code of
    :data:`FAULTS`) and the values its sentence names."""

    path: str
    code: str
    params: dict[str, str] = field(default_factory=dict)

    def sentence(self) -> str:
        text = FAULTS[self.code].format(**self.params)
        return f"{self.path}: {text}" if self.path else text


class ManifestError(ValueError):
    """A manifest that cannot be imported: ``faults`` lists each fault as a code with its values, ``problems`` the
    same as English sentences "path: sentence"."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        self.problems = [f.sentence() for f in faults]
        shown = "; ".join(self.problems[:10]) + (f"; and {len(faults) - 10} more" if len(faults) > 10 else "")
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
            raise PydanticCustomError("not_address", FAULTS["not_address"])
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
    return out


# pydantic's error types, as the manifest's fault codes (with the limit the sentence names, from the error's ctx).
_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing",
    "literal_error": "one_of",
    "string_pattern_mismatch": "code_format",
    "string_too_short": "too_short",
    "too_short": "too_short",
    "string_too_long": "too_long",
    "greater_than_equal": "too_small",
    "greater_than": "not_above",
    "less_than_equal": "too_large_value",
    "less_than": "too_large_value",
    "int_parsing": "not_integer",
    "int_type": "not_integer",
    "int_from_float": "not_integer",
    "float_parsing": "not_number",
    "float_type": "not_number",
    "bool_parsing": "not_boolean",
    "bool_type": "not_boolean",
    "date_parsing": "not_date",
    "date_type": "not_date",
    "date_from_datetime_parsing": "not_date",
    "date_from_datetime_inexact": "not_date",
    "string_type": "not_text",
    "list_type": "not_list",
    "model_type": "not_object",
    "model_attributes_type": "not_object",
    "dict_type": "not_object",
    "not_address": "not_address",
}


def _fault(error: Any) -> Fault:
    code = _CODES.get(error["type"], "invalid")
    ctx = error.get("ctx") or {}
    params: dict[str, str] = {}
    if code == "one_of":
        params["expected"] = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
    elif code == "too_short":
        params["min_length"] = str(ctx.get("min_length", ""))
    elif code == "too_long":
        params["max_length"] = str(ctx.get("max_length", ""))
    elif code in ("too_small", "not_above", "too_large_value"):
        params["limit"] = str(next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), ""))
    return Fault(_path(error["loc"]), code, params)


def parse_manifest(text: str | bytes) -> Manifest:
    """The manifest from its JSON text, or :class:`ManifestError` naming every fault by path or line."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError([Fault("", "too_large", {"mb": str(MAX_MANIFEST_BYTES // 1_000_000)})])
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise ManifestError([Fault("", "not_utf8")]) from None
    except json.JSONDecodeError as exc:
        raise ManifestError([Fault("", "not_json", {"line": str(exc.lineno), "column": str(exc.colno)})]) from None
    return validate_manifest(data)


def validate_manifest(data: object) -> Manifest:
    """The manifest from parsed JSON (the API's body), or :class:`ManifestError` naming every fault by path."""
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError([_fault(error) for error in exc.errors()]) from None
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


def _duplicates(values: list[str], where: str, name: str) -> list[Fault]:
    seen: dict[str, int] = {}
    faults = []
    for i, value in enumerate(values):
        key = value.lower()
        if key in seen:
            faults.append(
                Fault(f"{where}[{i}].{name}", "duplicate", {"value": value, "other": f"{where}[{seen[key]}].{name}"})
            )
        seen.setdefault(key, i)
    return faults


def existing_share(plants: list[PlantSpec]) -> dict[str, str] | None:
    """The values of the ``existing_over_30`` fault when plants in service before the community are more than
    30 % of its plant power (D.Lgs. 199/2021 art. 31 c. 2 lett. d)), else ``None``."""
    total = sum(p.kw for p in plants)
    existing = sum(p.kw for p in plants if not p.new_plant)
    if 100 * existing <= 30 * total:
        return None
    return {"existing_kw": f"{existing:g}", "pct": f"{100 * existing / total:.1f}", "total_kw": f"{total:g}"}


def check_references(manifest: Manifest) -> None:
    """Every name a manifest uses refers to something it defines, nothing is defined twice, and existing plants
    stay within 30 % of the community's power."""
    faults: list[Fault] = []
    suppliers, flows = effective_flows(manifest)
    faults += _duplicates([s.name for s in suppliers], "suppliers", "name")
    faults += _duplicates([f.name for f in flows], "flows", "name")
    faults += _duplicates([m.account for m in manifest.members], "members", "account")
    faults += _duplicates([m.pod for m in manifest.members], "members", "pod")
    faults += _duplicates([d.id for d in manifest.devices], "devices", "id")
    faults += _duplicates([p.id for p in manifest.plants], "plants", "id")
    supplier_names = {s.name for s in suppliers}
    for i, flow in enumerate(manifest.flows):
        if flow.supplier not in supplier_names:
            faults.append(Fault(f"flows[{i}].supplier", "not_defined", {"value": flow.supplier, "where": "suppliers"}))
        expected = {"load": "consumption", "production": "production"}.get(flow.quantity)
        if flow.accountconsumption != "none" and flow.accountconsumption != expected:
            faults.append(
                Fault(
                    f"flows[{i}].accountconsumption",
                    "flag_mismatch",
                    {"quantity": flow.quantity, "flag": flow.accountconsumption},
                )
            )
    members = {m.account.lower(): m for m in manifest.members}
    by_name = {f.name: f for f in flows}
    for i, device in enumerate(manifest.devices):
        quantity = QUANTITY_OF_KIND[device.kind]
        if device.member is None and device.kind != "weather_station":
            faults.append(Fault(f"devices[{i}].member", "needs_member", {"kind": device.kind}))
        if device.member is not None and device.member.lower() not in members:
            faults.append(Fault(f"devices[{i}].member", "not_defined", {"value": device.member, "where": "members"}))
        for j, name in enumerate(device.flows):
            if name not in by_name:
                faults.append(Fault(f"devices[{i}].flows[{j}]", "not_defined", {"value": name, "where": "flows"}))
            elif by_name[name].quantity != quantity:
                faults.append(
                    Fault(
                        f"devices[{i}].flows[{j}]",
                        "flow_quantity",
                        {"flow": name, "carries": by_name[name].quantity, "kind": device.kind, "quantity": quantity},
                    )
                )
        if not device.flows and not device_flows(device, flows):
            faults.append(Fault(f"devices[{i}].flows", "no_flow", {"quantity": quantity, "kind": device.kind}))
    for i, plant in enumerate(manifest.plants):
        owner = members.get(plant.member.lower())
        if owner is None:
            faults.append(Fault(f"plants[{i}].member", "not_defined", {"value": plant.member, "where": "members"}))
        elif owner.substation != plant.substation:
            faults.append(
                Fault(
                    f"plants[{i}].substation",
                    "plant_substation",
                    {"substation": plant.substation, "member_substation": owner.substation},
                )
            )
    share = existing_share(list(manifest.plants))
    if share is not None:
        faults.append(Fault("plants", "existing_over_30", share))
    if faults:
        raise ManifestError(faults)
