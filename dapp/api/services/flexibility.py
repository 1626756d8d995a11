"""Flexibility's use cases for the API: a member's declarations, the buyers' offer, events and dispatches.

The rules are the shared floor's (:mod:`lec.flex`) and the oracle's (:mod:`oracle.flex`); this module checks who
may do what, turns rule errors into sentences, and reads and writes the tables.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from dapp.api.deps import CommunityAccess
from dapp.api.errors import conflict, forbidden, invalid, not_found
from dapp.api.schemas.flexibility import (
    DeclarationCreate,
    DeclarationPublic,
    DispatchPublic,
    EventCreate,
    EventPublic,
    ForecastPublic,
    ForecastSlot,
    OfferPublic,
    PricePublic,
    PriceSet,
    SlotPublic,
)
from lec.calendar import local_day_grid
from lec.db.models import Community
from lec.db.models.flex import EventSource, FlexDeclaration, FlexDispatch, FlexEvent, FlexPrice
from lec.flex.aggregate import offer, slot_starts
from lec.flex.declarations import Declaration, problems
from oracle.flex.service import EventRequest, community_series, member_declarations, receive_event, to_rule

MAX_OFFER_HOURS = 7 * 24
MAX_EVENT_HOURS = 24


def _member_id(access: CommunityAccess) -> int:
    if access.user is None or access.user.id is None or access.member is None:
        raise forbidden("Only a member of this community can declare flexibility here.")
    return access.user.id


def _public(row: FlexDeclaration) -> DeclarationPublic:
    rule = to_rule(row)
    assert row.id is not None
    return DeclarationPublic(
        **row.model_dump(include=set(DeclarationCreate.model_fields) | {"id", "created_at"}),
        down_w=rule.down_w,
        up_w=rule.up_w,
    )


def list_declarations(session: Session, access: CommunityAccess) -> list[DeclarationPublic]:
    rows = session.exec(
        select(FlexDeclaration)
        .where(FlexDeclaration.community_id == access.community.id, FlexDeclaration.user_id == _member_id(access))
        .order_by(FlexDeclaration.id)  # type: ignore[arg-type]
    ).all()
    return [_public(r) for r in rows]


def declare(session: Session, access: CommunityAccess, body: DeclarationCreate) -> DeclarationPublic:
    user_id = _member_id(access)
    fields = body.model_dump()
    wrong = _problems(fields)
    if wrong:
        raise invalid(" ".join(wrong))
    assert access.community.id is not None
    row = FlexDeclaration(community_id=access.community.id, user_id=user_id, **fields)
    session.add(row)
    session.commit()
    return _public(row)


def _problems(fields: dict[str, object]) -> list[str]:
    """The rule's sentences for a body that passed the schema (a valid declaration constructs without error)."""
    probe = object.__new__(Declaration)
    for name, value in fields.items():
        object.__setattr__(probe, name, value)
    return problems(probe)


def delete_declaration(session: Session, access: CommunityAccess, declaration_id: int) -> None:
    row = session.get(FlexDeclaration, declaration_id)
    if row is None or row.community_id != access.community.id or row.user_id != _member_id(access):
        raise not_found(f"You have no flexibility declaration {declaration_id} in this community.")
    session.delete(row)
    session.commit()


def community_offer(session: Session, community_id: int, k: int, hours: int, now: datetime) -> OfferPublic:
    declarations, _ = member_declarations(session, community_id)
    entries = [(account, d) for account, ds in declarations.items() for d in ds]
    start = now + timedelta(minutes=15 - now.minute % 15) if now.minute % 15 or now.second else now
    slots = offer(entries, slot_starts(start, hours * 4), now, k)
    price = session.get(FlexPrice, community_id)
    return OfferPublic(
        community_id=community_id,
        k=k,
        generated_at=now,
        price_cents_per_kwh=price.price_cents_per_kwh if price else None,
        slots=[
            SlotPublic(start=s.start, down_w=s.down_w, up_w=s.up_w, devices=s.devices, withheld=s.withheld)
            for s in slots
        ],
    )


def _event_public(session: Session, row: FlexEvent) -> EventPublic:
    participants = session.exec(
        select(sa.func.count()).select_from(FlexDispatch).where(FlexDispatch.event_id == row.id)
    ).one()
    assert row.id is not None
    return EventPublic(
        id=row.id,
        event_id=row.external_id,
        source=row.source,
        buyer=row.buyer,
        start=row.start,
        end=row.end,
        request_w=row.request_w,
        committed_w=row.committed_w,
        decision=row.decision,
        participants=participants,
    )


def create_event(
    session: Session, community_id: int, buyer: str, body: EventCreate, now: datetime, min_cover_bps: int
) -> EventPublic:
    if body.end <= body.start:
        raise invalid("The event must end after it starts.")
    if body.end - body.start > timedelta(hours=MAX_EVENT_HOURS):
        raise invalid(f"An event lasts at most {MAX_EVENT_HOURS} hours; send longer requests as several events.")
    if body.start < now:
        raise invalid("The event starts in the past; send it before its start time.")
    if (body.start.minute % 15, body.start.second, body.end.minute % 15, body.end.second) != (0, 0, 0, 0):
        raise invalid("An event starts and ends on a quarter hour (:00, :15, :30, :45), as the readings do.")
    event = EventRequest(
        community_id=community_id,
        source=EventSource.REST,
        external_id=body.event_id,
        buyer=buyer,
        start=body.start.astimezone(UTC),
        end=body.end.astimezone(UTC),
        request_w=body.request_w,
    )
    row = receive_event(session, event, now, min_cover_bps)
    if (row.start, row.end, row.request_w) != (event.start, event.end, event.request_w):
        raise conflict(f"Event {body.event_id} was already received with another window or request.")
    return _event_public(session, row)


def list_events(session: Session, community_id: int, buyer: str | None) -> list[EventPublic]:
    """The community's events, newest first; a buyer sees only its own."""
    query = select(FlexEvent).where(FlexEvent.community_id == community_id)
    if buyer is not None:
        query = query.where(FlexEvent.buyer == buyer)
    rows = session.exec(query.order_by(FlexEvent.start.desc())).all()  # type: ignore[attr-defined]
    return [_event_public(session, r) for r in rows]


def my_dispatches(session: Session, access: CommunityAccess) -> list[DispatchPublic]:
    rows = session.exec(
        select(FlexDispatch, FlexEvent)
        .join(FlexEvent, FlexEvent.id == FlexDispatch.event_id)  # type: ignore[arg-type]
        .where(FlexDispatch.user_id == _member_id(access), FlexEvent.community_id == access.community.id)
        .order_by(FlexEvent.start.desc())  # type: ignore[attr-defined]
    ).all()
    return [
        DispatchPublic(
            event_id=e.id or 0,
            start=e.start,
            end=e.end,
            share_w=d.share_w,
            acknowledged_at=d.acknowledged_at,
            opted_out_at=d.opted_out_at,
        )
        for d, e in rows
    ]


def opt_out(session: Session, access: CommunityAccess, event_id: int, now: datetime) -> DispatchPublic:
    user_id = _member_id(access)
    dispatch = session.get(FlexDispatch, (event_id, user_id))
    event = session.get(FlexEvent, event_id)
    if dispatch is None or event is None or event.community_id != access.community.id:
        raise not_found(f"You were not dispatched in event {event_id} of this community.")
    if now >= event.start:
        raise conflict("The event has started: it is too late to opt out.")
    if dispatch.opted_out_at is None:
        dispatch.opted_out_at = now
        session.add(dispatch)
        session.commit()
    return DispatchPublic(
        event_id=event_id,
        start=event.start,
        end=event.end,
        share_w=dispatch.share_w,
        acknowledged_at=dispatch.acknowledged_at,
        opted_out_at=dispatch.opted_out_at,
    )


def community_forecast(session: Session, community: Community, day: date) -> ForecastPublic:
    from oracle.flex.forecast import TRAIN_DAYS, ForecastError, forecast_load, forecast_pv

    assert community.id is not None
    load, production = community_series(
        session, community.id, day - timedelta(days=TRAIN_DAYS + 7), day - timedelta(days=1)
    )
    if load.empty:
        raise invalid("The community has no readings in the weeks before that day: no forecast can be made.")
    grid = local_day_grid(day, 1)
    try:
        load_wh = forecast_load(load, day)
    except ForecastError as exc:
        raise invalid(str(exc)) from exc
    has_pv = not production.empty and community.latitude is not None and community.longitude is not None
    pv_wh = (
        forecast_pv(production, day, community.latitude, community.longitude)  # type: ignore[arg-type]
        if has_pv
        else np.zeros(len(grid))
    )
    return ForecastPublic(
        community_id=community.id,
        day=day,
        slots=[
            ForecastSlot(start=t.to_pydatetime(), load_wh=round(lw), production_wh=round(pw))
            for t, lw, pw in zip(grid, load_wh, pv_wh, strict=True)
        ],
    )


def get_price(session: Session, community_id: int) -> PricePublic:
    row = session.get(FlexPrice, community_id)
    return PricePublic(
        community_id=community_id,
        price_cents_per_kwh=row.price_cents_per_kwh if row else None,
        updated_at=row.updated_at if row else None,
    )


def set_price(session: Session, community_id: int, body: PriceSet, now: datetime) -> PricePublic:
    """The community admin's asking price (replaces the previous one)."""
    row = session.get(FlexPrice, community_id) or FlexPrice(community_id=community_id, price_cents_per_kwh=0)
    row.price_cents_per_kwh = body.price_cents_per_kwh
    row.updated_at = now
    session.add(row)
    session.commit()
    return get_price(session, community_id)
