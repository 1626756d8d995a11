"""A member's flexible load and what it offers in a quarter hour.

The report (Table 3) lets a citizen tell the administrator the hours and the power of the flexibility they
offer: loads are *shiftable* (spostabile: a washing machine, a heat pump's boiler), *modulable* (modulabile: a
charger or an air conditioner turned down to a set point), *storage* (a home battery) or *non-controllable*
(non controllabile: declared for completeness, offers nothing). Availability is a set of week days and a local
time window (Europe/Rome clock, quarter-hour boundaries; a window may cross midnight).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from lec.calendar import ROME

MAX_POWER_W = 1_000_000  # 1 MW: a stakeholder's plant at most; a home declares a few kW
MAX_NOTICE_MINUTES = 7 * 24 * 60
ALL_DAYS = 0b1111111  # bit 0 Monday … bit 6 Sunday
MINUTES_PER_DAY = 24 * 60
SLOT_MINUTES = 15


class LoadKind(enum.StrEnum):
    SHIFTABLE = "shiftable"
    MODULABLE = "modulable"
    STORAGE = "storage"
    NON_CONTROLLABLE = "non-controllable"


class DeclarationError(ValueError):
    """A declaration that cannot be accepted; the message says what to change."""


@dataclass(frozen=True)
class Declaration:
    """One flexible load. `start_minute`/`end_minute` are minutes after local midnight (0 … 1440, multiples of
    15); `end_minute < start_minute` crosses midnight. `setpoint_w` is the maximum consumption the load can be
    held to during an event (modulable loads): its offer is `power_w − setpoint_w`."""

    kind: LoadKind
    power_w: int
    days_mask: int = ALL_DAYS
    start_minute: int = 0
    end_minute: int = MINUTES_PER_DAY
    notice_minutes: int = 60
    setpoint_w: int | None = None

    def __post_init__(self) -> None:
        for problem in problems(self):
            raise DeclarationError(problem)

    @property
    def down_w(self) -> int:
        """Power the load can stop drawing (a reduction, what a DSO asks for at a congestion)."""
        if self.kind is LoadKind.NON_CONTROLLABLE:
            return 0
        if self.kind is LoadKind.MODULABLE and self.setpoint_w is not None:
            return self.power_w - self.setpoint_w
        return self.power_w

    @property
    def up_w(self) -> int:
        """Power the load can start drawing (an increase: a shifted load run early, a battery charged)."""
        return self.power_w if self.kind in (LoadKind.SHIFTABLE, LoadKind.STORAGE) else 0

    def covers(self, moment: datetime) -> bool:
        """Whether the quarter hour starting at `moment` (aware) is inside the declared days and hours."""
        local = moment.astimezone(ROME)
        minute = local.hour * 60 + local.minute
        if self.start_minute < self.end_minute:
            inside, day = self.start_minute <= minute < self.end_minute, local.weekday()
        else:  # crosses midnight: the part after midnight belongs to the day the window started on
            inside = minute >= self.start_minute or minute < self.end_minute
            day = local.weekday() if minute >= self.start_minute else (local.weekday() - 1) % 7
        return inside and bool(self.days_mask >> day & 1)


def problems(d: Declaration) -> list[str]:
    """Every reason the declaration cannot be accepted, as sentences a member understands (empty when valid)."""
    out: list[str] = []
    if not isinstance(d.kind, LoadKind):
        out.append(f"The kind must be one of {', '.join(k.value for k in LoadKind)}.")
    if not 0 < d.power_w <= MAX_POWER_W:
        out.append(f"The power must be between 1 W and {MAX_POWER_W // 1000} kW.")
    if not 0 < d.days_mask <= ALL_DAYS:
        out.append("Choose at least one day of the week.")
    for name, value in (("start", d.start_minute), ("end", d.end_minute)):
        if not 0 <= value <= MINUTES_PER_DAY or value % SLOT_MINUTES:
            out.append(f"The {name} time must be a quarter hour between 00:00 and 24:00.")
    if d.start_minute == d.end_minute or (d.start_minute, d.end_minute) == (MINUTES_PER_DAY, 0):
        out.append("The start and end times must differ.")
    if not 0 <= d.notice_minutes <= MAX_NOTICE_MINUTES:
        out.append("The minimum notice must be between 0 minutes and 7 days.")
    if d.setpoint_w is not None:
        if d.kind is not LoadKind.MODULABLE:
            out.append("A set point applies only to a modulable load.")
        elif not 0 <= d.setpoint_w < d.power_w:
            out.append("The set point must be below the declared power (it is the most the load may draw).")
    return out
