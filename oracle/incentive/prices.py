"""Hourly zonal prices (PZO, GME's day-ahead market) read from a CSV ``datetime,zone,pzo_eur_mwh``.

``datetime`` is the start of the hour: ISO 8601 with an offset, or without one meaning local time in
Europe/Rome (GME publishes local hours; on the autumn DST day write the offset to tell the two 02:00 apart).
Prices are kept in euro cents per MWh, rounded half up, so the incentive's arithmetic stays in integers.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lec.calendar import ROME
from oracle.incentive.rules import IncentiveError

ZONES = ("NORD", "CNOR", "CSUD", "SUD", "CALA", "SICI", "SARD")
HEADER = ("datetime", "zone", "pzo_eur_mwh")


def eur_to_cents(value: str | float | Decimal, where: str) -> int:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise IncentiveError(f"{where}: {value!r} is not a price in €/MWh.") from exc
    if not amount.is_finite():
        raise IncentiveError(f"{where}: {value!r} is not a price in €/MWh.")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_prices(text: str) -> dict[tuple[int, str], int]:
    """``{(unix second of the hour's start, zone): cents/MWh}``; every refused line is named."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise IncentiveError("The prices file must start with the header line: datetime,zone,pzo_eur_mwh")
    prices: dict[tuple[int, str], int] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or not "".join(row).strip():
            continue
        where = f"Prices file, line {line_no}"
        if len(row) != 3:
            raise IncentiveError(f"{where}: expected 3 values (datetime, zone, price), found {len(row)}.")
        stamp, zone, price = (cell.strip() for cell in row)
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError as exc:
            raise IncentiveError(f"{where}: {stamp!r} is not a date and hour like 2026-05-01T13:00+02:00.") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ROME)
        if moment.minute or moment.second or moment.microsecond:
            raise IncentiveError(f"{where}: {stamp!r} is not the start of an hour.")
        if zone.upper() not in ZONES:
            raise IncentiveError(f"{where}: unknown market zone {zone!r}; use one of {', '.join(ZONES)}.")
        key = (int(moment.timestamp()), zone.upper())
        if key in prices:
            raise IncentiveError(f"{where}: a second price for {stamp} in zone {zone.upper()}.")
        prices[key] = eur_to_cents(price, where)
    return prices


# The approximations a report can carry, as (code, parameters): the CLI and the API print the English sentence,
# the dApp its own translation of the code.
APPROXIMATIONS = {
    "single_price": (
        "No hourly zonal prices given: one price, {eur_mwh} €/MWh, was used for every hour (give GME's hourly PZO "
        "with --prices, or upload them, for the exact TIP)."
    ),
    "missing_prices": "{missing} of {hours} hours have no zonal price for {zone}: {eur_mwh} €/MWh was used for them.",
    "valorisation_year": (
        "Valorisation at {eur_mwh} €/MWh, ARERA's unit amount of {year}; the 55 %/45 % threshold is checked over "
        "this period, the GSE checks it over the year."
    ),
}


def hourly_prices(
    hours: list[int], zone: str, prices: dict[tuple[int, str], int] | None, fallback_cents: int
) -> tuple[list[int], list[tuple[str, dict[str, str]]]]:
    """The zone's price for each hour start, the fallback where none is given, and the approximations made."""
    fallback = f"{fallback_cents / 100:.2f}"
    if not prices:
        return [fallback_cents] * len(hours), [("single_price", {"eur_mwh": fallback})]
    out = [prices.get((h, zone), -1) for h in hours]
    missing = sum(1 for p in out if p < 0)
    notes = []
    if missing:
        notes.append(
            ("missing_prices", {"missing": str(missing), "hours": str(len(hours)), "zone": zone, "eur_mwh": fallback})
        )
    return [fallback_cents if p < 0 else p for p in out], notes
