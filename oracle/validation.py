"""Validation of meter readings, shared by every entry path (files, MQTT, the API).

Pure: a raw reading (a mapping as parsed from JSON or a CSV row) and a :class:`Catalogue` of the known
communities, devices and flows go in; a :class:`Reading` ready to store, or a :class:`Rejection` with its
reason and a sentence for the sender, comes out. Duplicates against the database are the store's job
(:mod:`oracle.ingest.store`); everything that can be decided from one reading is decided here.

A reading (docs/ingestion.md): ``device`` (the POD), ``timestamp`` (ISO 8601 with offset, or Unix seconds),
``energy_wh`` (Wh in the 15 minutes starting at the timestamp, in the report's sign convention), optional
``community`` (must match the device's), ``flow`` (flow id; default: the device's default flow),
``power_active_w``, ``power_reactive_var``, ``current_a``, ``voltage_v``, ``charge_status``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lec.db.enums import AnomalyReason, FlowQuantity

# Gateways' clocks drift; a reading a little ahead of ours is not "from the future".
CLOCK_SKEW = timedelta(minutes=5)
OPTIONAL_FIELDS = ("power_active_w", "power_reactive_var", "current_a", "voltage_v", "charge_status")
# Physical ranges that hold for every device (signal labels of the report); device bounds come on top.
_FIXED_RANGES = {"voltage_v": (0.0, 1000.0), "current_a": (-1000.0, 1000.0), "charge_status": (0.0, 100.0)}
# Quantities whose sign is fixed by the report's table 13 (load +, production −).
_SIGN = {FlowQuantity.LOAD: 1, FlowQuantity.PRODUCTION: -1}
# ASCII only: str.isdigit() also accepts superscripts and other scripts' digits, which int() refuses.
_DIGITS = re.compile(r"[0-9]{1,18}")
_UNIX_SECONDS = re.compile(r"-?[0-9]{1,12}(\.[0-9]+)?")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    pod: str
    community_id: int
    default_flow_id: int | None
    flow_ids: frozenset[int]
    activated_at: datetime | None = None
    min_energy_wh: float | None = None
    max_energy_wh: float | None = None
    max_power_w: float | None = None


@dataclass
class Catalogue:
    """What validation needs to know about the database: communities, devices by POD, flows' quantities."""

    communities: set[int] = field(default_factory=set)
    devices: dict[str, DeviceInfo] = field(default_factory=dict)
    flows: dict[int, FlowQuantity] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reading:
    device_id: int
    flow_id: int
    community_id: int
    timestamp: datetime
    energy_wh: float
    power_active_w: float | None = None
    power_reactive_var: float | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    charge_status: float | None = None

    @property
    def key(self) -> tuple[int, int, datetime]:
        return (self.device_id, self.flow_id, self.timestamp)

    @property
    def values(self) -> tuple[float | None, ...]:
        return (
            self.energy_wh,
            self.power_active_w,
            self.power_reactive_var,
            self.current_a,
            self.voltage_v,
            self.charge_status,
        )


@dataclass(frozen=True)
class Rejection:
    reason: AnomalyReason
    message: str
    raw: Any
    device_ref: str | None = None
    device_id: int | None = None
    community_id: int | None = None
    flow_id: int | None = None
    timestamp: datetime | None = None
    where: str | None = None  # "row 12" of a file, or the MQTT topic

    def payload_text(self) -> str:
        try:
            return json.dumps(self.raw, default=str, allow_nan=True)[:4000]
        except (TypeError, ValueError):
            return repr(self.raw)[:4000]

    def as_feedback(self) -> dict[str, Any]:
        return {"reason": self.reason.value, "message": self.message, "reading": _short(self.raw)}


def _short(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return {k: _scalar(raw[k]) for k in ("device", "flow", "timestamp", "energy_wh") if k in raw}
    return repr(raw)[:200]


def _scalar(value: Any) -> Any:
    # Echo what identifies the reading, never an arbitrarily large structure the sender put there.
    if value is None or isinstance(value, bool | int | float):
        return value if not isinstance(value, float) or math.isfinite(value) else str(value)
    return str(value)[:100]


class _Invalid(Exception):
    def __init__(self, reason: AnomalyReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _number(raw: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise _Invalid(AnomalyReason.MALFORMED, f"The reading has no '{name}'; every reading needs one.")
        return None
    if isinstance(value, bool):  # bool is an int to Python, never a measurement
        raise _Invalid(AnomalyReason.WRONG_TYPE, f"'{name}' is {value!r}; send a number.")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float: JSON allows it, no meter measures it
            raise _Invalid(
                AnomalyReason.NOT_FINITE, f"'{name}' has {len(str(abs(value)))} digits; no meter measures that."
            ) from None
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise _Invalid(
                AnomalyReason.WRONG_TYPE, f"'{name}' is {value[:40]!r}, not a number; send a number."
            ) from None
    else:
        raise _Invalid(AnomalyReason.WRONG_TYPE, f"'{name}' is a {type(value).__name__}; send a number.")
    if not math.isfinite(number):
        raise _Invalid(AnomalyReason.NOT_FINITE, f"'{name}' is {number}; only finite numbers are measurements.")
    return number


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _Invalid(AnomalyReason.WRONG_TYPE, f"'{name}' is {value!r}; send an integer id.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _Invalid(AnomalyReason.WRONG_TYPE, f"'{name}' is {str(value)[:40]!r}; send an integer id.")


def parse_timestamp(value: Any) -> datetime:
    """ISO 8601 with a UTC offset, or Unix seconds; returned as aware UTC."""
    if isinstance(value, bool) or value is None or value == "":
        raise _Invalid(
            AnomalyReason.MALFORMED if value in (None, "") else AnomalyReason.WRONG_TYPE,
            "The reading has no valid 'timestamp'; send ISO 8601 with an offset or Unix seconds.",
        )
    if isinstance(value, str) and _UNIX_SECONDS.fullmatch(value.strip()):
        value = float(value)  # Unix seconds written as text (CSV)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Invalid(AnomalyReason.NOT_FINITE, f"'timestamp' is {value}; send ISO 8601 or Unix seconds.")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):  # OverflowError: an integer beyond any float or date
            raise _Invalid(
                AnomalyReason.WRONG_TYPE, f"'timestamp' {str(value)[:40]} is not a representable Unix time."
            ) from None
    if not isinstance(value, str):
        raise _Invalid(AnomalyReason.WRONG_TYPE, f"'timestamp' is a {type(value).__name__}; send ISO 8601.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(
            AnomalyReason.WRONG_TYPE,
            f"'timestamp' {value[:40]!r} is not ISO 8601; send e.g. 2026-03-01T10:15:00+01:00.",
        ) from None
    if parsed.tzinfo is None:
        raise _Invalid(
            AnomalyReason.WRONG_TYPE, f"'timestamp' {value[:40]!r} has no UTC offset; add one (e.g. +01:00 or Z)."
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is in year 0 in UTC, 9999-12-31T23:59-14:00 in year 10000
        raise _Invalid(
            AnomalyReason.WRONG_TYPE, f"'timestamp' {value[:40]!r} falls outside the years 1 to 9999 in UTC."
        ) from None


def validate(
    raw: Any,
    catalogue: Catalogue,
    now: datetime,
    *,
    community: Any = None,
    device: str | None = None,
    where: str | None = None,
) -> Reading | Rejection:
    """Check one raw reading. ``community``/``device`` come from the MQTT topic when the payload omits them."""
    device_ref: str | None = device
    try:
        if not isinstance(raw, Mapping):
            raise _Invalid(AnomalyReason.MALFORMED, f"A reading must be a JSON object, not {type(raw).__name__}.")
        community_raw = raw.get("community", community)
        if community_raw in (None, ""):
            community_raw = community
        payload_device = raw.get("device")
        if payload_device not in (None, "") and device is not None and str(payload_device) != device:
            raise _Invalid(
                AnomalyReason.UNKNOWN_DEVICE,
                f"The reading names device {str(payload_device)[:64]!r} but was sent on the topic of "
                f"device {device!r}; a device sends only its own readings.",
            )
        device_value = device if payload_device in (None, "") else payload_device
        if device_value in (None, ""):
            raise _Invalid(AnomalyReason.MALFORMED, "The reading has no 'device'; name the device's POD.")
        if not isinstance(device_value, str):
            raise _Invalid(
                AnomalyReason.WRONG_TYPE, f"'device' is a {type(device_value).__name__}; send the POD as a string."
            )
        # Kept with an anomaly: without control characters (PostgreSQL refuses NUL in text) and surrogates.
        device_ref = _UNPRINTABLE.sub("", device_value)[:128]
        community_id = None
        if community_raw not in (None, ""):
            community_id = _integer(community_raw, "community")
            if community_id not in catalogue.communities:
                raise _Invalid(
                    AnomalyReason.UNKNOWN_COMMUNITY, f"Community {community_id} does not exist; check the community id."
                )
        info = catalogue.devices.get(device_value)
        if info is None:
            raise _Invalid(
                AnomalyReason.UNKNOWN_DEVICE,
                f"Device {device_value[:64]!r} is not registered; register it before sending readings.",
            )
        if community_id is not None and community_id != info.community_id:
            raise _Invalid(
                AnomalyReason.UNKNOWN_DEVICE,
                f"Device {device_value!r} is not registered in community {community_id} "
                f"(it belongs to community {info.community_id}).",
            )
        flow_raw = raw.get("flow")
        if flow_raw in (None, ""):
            if info.default_flow_id is None:
                raise _Invalid(
                    AnomalyReason.UNKNOWN_FLOW,
                    f"Device {device_value!r} has no default flow; name the 'flow' of the reading.",
                )
            flow_id = info.default_flow_id
        else:
            flow_id = _integer(flow_raw, "flow")
            if flow_id not in info.flow_ids:
                raise _Invalid(
                    AnomalyReason.UNKNOWN_FLOW,
                    f"Flow {flow_id} is not a flow of device {device_value!r}; use one of {sorted(info.flow_ids)}.",
                )
        quantity = catalogue.flows[flow_id]
        timestamp = parse_timestamp(raw.get("timestamp"))
        energy = _number(raw, "energy_wh", required=True)
        assert energy is not None
        optional = {name: _number(raw, name, required=False) for name in OPTIONAL_FIELDS}
        if timestamp > now + CLOCK_SKEW:
            raise _Invalid(
                AnomalyReason.FUTURE_TIMESTAMP,
                f"Timestamp {timestamp.isoformat()} is in the future (now {now.isoformat(timespec='seconds')}); "
                "check the gateway's clock.",
            )
        if info.activated_at is not None and timestamp < info.activated_at:
            raise _Invalid(
                AnomalyReason.BEFORE_ACTIVATION,
                f"Timestamp {timestamp.isoformat()} is before device {device_value!r} was activated "
                f"({info.activated_at.isoformat()}).",
            )
        sign = _SIGN.get(quantity)
        if sign is not None:
            for name, value in (("energy_wh", energy), ("power_active_w", optional["power_active_w"])):
                if value is not None and value * sign < 0:
                    expected = "positive (load +)" if sign > 0 else "negative (production −)"
                    raise _Invalid(
                        AnomalyReason.SIGN_VIOLATION,
                        f"'{name}' is {value} but a {quantity.value} flow is {expected} by the report's "
                        "sign convention (table 13); fix the sign at the gateway.",
                    )
        _check_bounds(info, energy, optional)
    except _Invalid as invalid:
        return Rejection(
            reason=invalid.reason,
            message=invalid.message,
            raw=raw,
            device_ref=device_ref,
            device_id=_known_id(catalogue, device_ref),
            where=where,
            community_id=_known_community(catalogue, device_ref),
        )
    return Reading(
        device_id=info.id,
        flow_id=flow_id,
        community_id=info.community_id,
        timestamp=timestamp,
        energy_wh=energy,
        **optional,
    )


def _check_bounds(info: DeviceInfo, energy: float, optional: dict[str, float | None]) -> None:
    low, high = info.min_energy_wh, info.max_energy_wh
    if (low is not None and energy < low) or (high is not None and energy > high):
        raise _Invalid(
            AnomalyReason.OUT_OF_BOUNDS,
            f"'energy_wh' {energy} is outside device {info.pod!r}'s physical range "
            f"[{low}, {high}] Wh per reading; check the meter or its configured bounds.",
        )
    power = optional["power_active_w"]
    if power is not None and info.max_power_w is not None and abs(power) > info.max_power_w:
        raise _Invalid(
            AnomalyReason.OUT_OF_BOUNDS,
            f"'power_active_w' {power} exceeds the maximum power of device {info.pod!r}, {info.max_power_w} W.",
        )
    for name, (lo, hi) in _FIXED_RANGES.items():
        value = optional[name]
        if value is not None and not lo <= value <= hi:
            raise _Invalid(AnomalyReason.OUT_OF_BOUNDS, f"'{name}' {value} is outside the physical range [{lo}, {hi}].")


def _known_id(catalogue: Catalogue, device_ref: str | None) -> int | None:
    info = catalogue.devices.get(device_ref) if device_ref else None
    return info.id if info else None


def _known_community(catalogue: Catalogue, device_ref: str | None) -> int | None:
    info = catalogue.devices.get(device_ref) if device_ref else None
    return info.community_id if info else None
