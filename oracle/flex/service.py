"""Flexibility's I/O around the pure rules: members' declarations from the database, an event recorded once
with its decision and dispatch, the community's metered load for the VEN's telemetry reports.

The API (REST events) and the VEN (OpenADR events) both call `receive_event`, so a buyer gets the same answer
whichever way it speaks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from holidays import country_holidays
from sqlmodel import Session, select

from lec.calendar import ROME, day_window, period_id
from lec.db.models import CounterReading, Device, UserCommunity
from lec.db.models.flex import EventDecision, EventSource, FlexDeclaration, FlexDispatch, FlexEvent
from lec.db.models.proofs import LeafSalt
from lec.flex.baseline import LOOKBACK_DAYS, BaselineError, Method, clock_history, needed_minutes
from lec.flex.declarations import Declaration
from oracle.flex.dispatch import event_slots, plan
from oracle.flex.rewards import MemberDelivery, measure
from oracle.flex.settlement import EventDeliveries, FlexModelRef, FlexSettlement, salt_id, settle
from oracle.proofs.store import ensure_salts


@dataclass(frozen=True)
class EventRequest:
    community_id: int
    source: EventSource
    external_id: str
    buyer: str
    start: datetime
    end: datetime
    request_w: int


def to_rule(row: FlexDeclaration) -> Declaration:
    return Declaration(
        kind=row.kind,
        power_w=row.power_w,
        days_mask=row.days_mask,
        start_minute=row.start_minute,
        end_minute=row.end_minute,
        notice_minutes=row.notice_minutes,
        setpoint_w=row.setpoint_w,
    )


def member_declarations(session: Session, community_id: int) -> tuple[dict[str, list[Declaration]], dict[str, int]]:
    """Declarations of the community's active members with a wallet, by account; and each account's user id."""
    rows = session.exec(
        select(FlexDeclaration, UserCommunity.wallet)
        .join(
            UserCommunity,
            sa.and_(
                UserCommunity.user_id == FlexDeclaration.user_id,  # type: ignore[arg-type]
                UserCommunity.community_id == FlexDeclaration.community_id,  # type: ignore[arg-type]
            ),
        )
        .where(FlexDeclaration.community_id == community_id, UserCommunity.active == sa.true())
    ).all()
    by_account: dict[str, list[Declaration]] = defaultdict(list)
    users: dict[str, int] = {}
    for row, wallet in rows:
        if wallet:
            by_account[wallet].append(to_rule(row))
            users[wallet] = row.user_id
    return dict(by_account), users


def receive_event(session: Session, event: EventRequest, now: datetime, min_cover_bps: int) -> FlexEvent:
    """Record the event once (a re-sent one returns the first record), decide, and dispatch among members."""
    existing = session.exec(
        select(FlexEvent).where(
            FlexEvent.community_id == event.community_id,
            FlexEvent.source == event.source,
            FlexEvent.external_id == event.external_id,
        )
    ).first()
    if existing is not None:
        return existing
    declarations, users = member_declarations(session, event.community_id)
    decided = plan(declarations, event.request_w, event.start, event.end, now, min_cover_bps)
    row = FlexEvent(
        community_id=event.community_id,
        source=event.source,
        external_id=event.external_id,
        buyer=event.buyer,
        start=event.start,
        end=event.end,
        request_w=event.request_w,
        committed_w=decided.committed_w,
        decision=EventDecision.OPTED_IN if decided.opt_in else EventDecision.OPTED_OUT,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for account, share in decided.shares.items():
        session.add(FlexDispatch(event_id=row.id, user_id=users[account], share_w=share))
    session.commit()
    return row


def community_load_w(session: Session, community_id: int, now: datetime) -> int:
    """The community's metered load in the last complete quarter hour, in W (Wh per quarter hour × 4): what the
    VEN reports to the VTN. Withdrawals only (positive energy in the report's sign convention)."""
    end = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    start = end - timedelta(minutes=15)
    wh = session.exec(
        select(sa.func.coalesce(sa.func.sum(CounterReading.energy_wh), 0.0)).where(
            CounterReading.community_id == community_id,
            CounterReading.timestamp >= start,
            CounterReading.timestamp < end,
            CounterReading.energy_wh > 0,  # type: ignore[operator]
        )
    ).one()
    return int(wh or 0) * 4


def event_minutes(event: FlexEvent) -> tuple[date, list[int]]:
    """The event's local day and the clock minutes of its quarter hours; an event crossing local midnight is
    refused (measure each day's part as its own event)."""
    slots = [s.astimezone(ROME) for s in event_slots(event.start, event.end)]
    days = {s.date() for s in slots}
    if len(days) != 1:
        raise ValueError("An event crossing local midnight cannot be measured as one; split it per day.")
    return slots[0].date(), [s.hour * 60 + s.minute for s in slots]


def measure_event(session: Session, event_id: int, method: Method) -> list[MemberDelivery]:
    """Baseline, metered load and delivery of every member dispatched in the event and not opted out, from the
    members' readings (withdrawals: positive Wh) of the 45 days before and the event day itself."""
    event = session.get(FlexEvent, event_id)
    if event is None:
        raise ValueError(f"There is no flexibility event {event_id}.")
    day, minutes = event_minutes(event)
    keep = set(needed_minutes(minutes))
    others = session.exec(
        select(FlexEvent.start).where(
            FlexEvent.community_id == event.community_id,
            FlexEvent.decision == EventDecision.OPTED_IN,
            FlexEvent.id != event.id,
        )
    ).all()
    excluded = {s.astimezone(ROME).date() for s in others}
    first, _ = day_window(day - timedelta(days=LOOKBACK_DAYS))
    _, last = day_window(day)
    holidays = set(country_holidays("IT", years=sorted({first.year, day.year})))
    rows = session.exec(
        select(FlexDispatch, UserCommunity.wallet)
        .join(
            UserCommunity,
            sa.and_(
                UserCommunity.user_id == FlexDispatch.user_id,  # type: ignore[arg-type]
                UserCommunity.community_id == event.community_id,  # type: ignore[arg-type]
            ),
        )
        .where(FlexDispatch.event_id == event.id, FlexDispatch.opted_out_at.is_(None))  # type: ignore[union-attr]
    ).all()
    out = []
    for dispatch, wallet in rows:
        readings = session.exec(
            select(CounterReading.timestamp, CounterReading.energy_wh)
            .join(Device, Device.id == CounterReading.device_id)  # type: ignore[arg-type]
            .where(
                Device.user_id == dispatch.user_id,
                CounterReading.community_id == event.community_id,
                CounterReading.timestamp >= first,
                CounterReading.timestamp < last,
                CounterReading.energy_wh > 0,  # type: ignore[operator]
            )
        ).all()
        history = clock_history(((t, round(wh or 0)) for t, wh in readings), keep)
        same_day = history.pop(day, {})
        if any(m not in same_day for m in minutes):
            continue  # no metered load for the whole event: nothing can be measured, nothing is rewarded
        try:
            out.append(
                measure(
                    method,
                    wallet or "",
                    day,
                    minutes,
                    history,
                    same_day,
                    dispatch.share_w,
                    sorted(excluded),
                    sorted(holidays),
                )
            )
        except BaselineError:
            continue  # too little history for a baseline: nothing can be measured, nothing is rewarded
    return out


def community_series(session: Session, community_id: int, first: date, last: date) -> tuple[pd.Series, pd.Series]:
    """The community's load (withdrawals) and production (magnitudes) in Wh per quarter hour, UTC index, over the
    local days first … last (both included)."""
    start, _ = day_window(first)
    _, end = day_window(last)
    rows = session.exec(
        select(CounterReading.timestamp, CounterReading.energy_wh).where(
            CounterReading.community_id == community_id,
            CounterReading.timestamp >= start,
            CounterReading.timestamp < end,
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["t", "wh"]).dropna()
    if frame.empty:
        empty = pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
        return empty, empty
    frame["t"] = pd.to_datetime(frame["t"], utc=True)
    load = frame[frame["wh"] > 0].groupby("t")["wh"].sum()
    production = -frame[frame["wh"] < 0].groupby("t")["wh"].sum()
    return load.astype(float), production.astype(float)


def day_events(session: Session, community_id: int, day: date, method: Method) -> list[EventDeliveries]:
    """The community's opted-in events of one local day, each measured (members without a measurable baseline
    or without readings for the whole event are left out: nothing is rewarded for them)."""
    start, end = day_window(day)
    events = session.exec(
        select(FlexEvent)
        .where(
            FlexEvent.community_id == community_id,
            FlexEvent.decision == EventDecision.OPTED_IN,
            FlexEvent.start >= start,
            FlexEvent.start < end,
        )
        .order_by(FlexEvent.start, FlexEvent.id)  # type: ignore[arg-type]
    ).all()
    out = []
    for event in events:
        assert event.id is not None
        deliveries = [d for d in measure_event(session, event.id, method) if d.account]
        first = event_slots(event.start, event.end)[0]
        out.append(EventDeliveries(f"{event.source.value}:{event.external_id}", int(first.timestamp()), deliveries))
    return out


def settle_day(
    session: Session, chain_community_id: int, community_id: int, day: date, model: FlexModelRef, method: Method
) -> FlexSettlement | None:
    """The day's flexibility settlement, its salts stored (committed) first; None when the day had no event."""
    events = day_events(session, community_id, day, method)
    if not events:
        return None
    period = period_id(day)
    keys = [salt_id(e.key, d.account) for e in events for d in e.deliveries]
    salts = ensure_salts(session, chain_community_id, period, keys)
    return settle(period, model, events, salts)


def forget_flex_salts(session: Session, wallets: list[str]) -> int:
    """Right to be forgotten: erase the salts of these accounts' delivery leaves (docs/proofs.md §8), which makes
    those leaves unlinkable to them as for device leaves; returns how many were deleted."""
    if not wallets:
        return 0
    column: sa.ColumnClause[str] = sa.column("device_id")
    matches = [
        sa.and_(column.startswith("flex:", autoescape=True), column.endswith(f":{w.lower()}", autoescape=True))
        for w in wallets
    ]
    result = session.exec(sa.delete(LeafSalt).where(sa.or_(*matches)))  # type: ignore[call-overload]
    session.commit()
    return int(result.rowcount or 0)
