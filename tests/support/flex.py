"""A demand-response day in a test database: members' history, declarations, an event received and dispatched,
deliveries. Used by the flexibility settlement's tests and by the Spark engine's equality test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from lec.calendar import ROME
from lec.db.models import CounterReading, Device, UserCommunity
from lec.db.models.flex import EventSource, FlexDeclaration, FlexDispatch, FlexEvent
from lec.flex.declarations import LoadKind
from oracle.flex.service import EventRequest, receive_event


def load_device(session: Session, wallet: str, prefix: str = "IT001E") -> Device:
    """The member's consumption meter (its POD starts with ``prefix``)."""
    uc = session.exec(select(UserCommunity).where(UserCommunity.wallet == wallet)).one()
    return session.exec(select(Device).where(Device.user_id == uc.user_id, Device.pod.startswith(prefix))).one()  # type: ignore[union-attr]


def readings_between(session: Session, device: Device, start: datetime, end: datetime) -> list[CounterReading]:
    return list(
        session.exec(
            select(CounterReading).where(
                CounterReading.device_id == device.id,
                CounterReading.timestamp >= start,
                CounterReading.timestamp < end,
            )
        ).all()
    )


def dr_event(
    session: Session,
    wallets: Sequence[str],
    start: datetime,
    request_w: int,
    *,
    reduced: Sequence[str] = (),
    opted_out: str | None = None,
    history_boost: int = 1,
    history_days: int = 14,
    prefix: str = "IT001E",
) -> FlexEvent:
    """A one-hour event from ``start`` (UTC) on the members' day, settled by that day's period run.

    History: each member's consumption-meter readings from 6 h before the event to 1 h after its end, copied to
    each of the ``history_days`` days before (timestamps already there are kept), the event's own quarter hours
    multiplied by ``history_boost`` (a baseline above the day's load without touching the day's readings); a
    2 kW shiftable declaration each; the event (``request_w``) received the day before with full cover, shared
    among the members; ``opted_out`` opts out 2 h before it; ``reduced`` draw a quarter of their load during it.
    """
    end = start + timedelta(hours=1)
    community_id = None
    for wallet in wallets:
        device = load_device(session, wallet, prefix)
        assert device.user_id is not None  # a member's meter
        community_id = device.community_id
        window = readings_between(session, device, start - timedelta(hours=6), end + timedelta(hours=1))
        taken = set(session.exec(select(CounterReading.timestamp).where(CounterReading.device_id == device.id)).all())
        for back in range(1, history_days + 1):
            for r in window:
                t = r.timestamp.astimezone(ROME) - timedelta(days=back)
                if t.astimezone(UTC) in taken:  # the day before's evening may be there already (6 h of context)
                    continue
                at = r.timestamp.astimezone(UTC)
                boost = history_boost if start <= at < end else 1
                session.add(
                    CounterReading(
                        device_id=r.device_id,
                        flow_id=r.flow_id,
                        community_id=r.community_id,
                        timestamp=t.astimezone(UTC),
                        energy_wh=None if r.energy_wh is None else r.energy_wh * boost,
                        tsi=int(t.timestamp()) * 1000,
                    )
                )
        session.add(
            FlexDeclaration(
                community_id=community_id,
                user_id=device.user_id,
                kind=LoadKind.SHIFTABLE,
                power_w=2_000,
                notice_minutes=0,
            )
        )
    session.commit()
    assert community_id is not None
    event = receive_event(
        session,
        EventRequest(community_id, EventSource.REST, "dso-1", "dso", start, end, request_w),
        start - timedelta(days=1),
        10_000,
    )
    if opted_out is not None:
        dispatch = session.get(FlexDispatch, (event.id, load_device(session, opted_out, prefix).user_id))
        assert dispatch is not None and dispatch.share_w > 0
        dispatch.opted_out_at = start - timedelta(hours=2)
    for wallet in reduced:
        for r in readings_between(session, load_device(session, wallet, prefix), start, end):
            r.energy_wh = float((r.energy_wh or 0) // 4)
    session.commit()
    return event
