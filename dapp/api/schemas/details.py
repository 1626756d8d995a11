"""The community dashboard's second level: what devices measure besides energy, and the month's ranking."""

from __future__ import annotations

from pydantic import BaseModel


class SignalStats(BaseModel):
    samples: int
    mean: float | None
    min: float | None
    max: float | None


class DeviceSignals(BaseModel):
    """A device's voltage, current, reactive power and battery state of charge over the window (absent: null)."""

    pod: str
    kind: str
    voltage_v: SignalStats
    current_a: SignalStats
    power_reactive_var: SignalStats
    charge_status: SignalStats


class StationWeather(BaseModel):
    pod: str
    temperature_c: SignalStats


class RankedMember(BaseModel):
    rank: int
    wallet: str | None
    load_kwh: float
    production_kwh: float
    self_sufficiency_pct: float | None


class CommunityDetails(BaseModel):
    month: str
    devices: list[DeviceSignals]
    weather: list[StationWeather]
    ranking: list[RankedMember]
