"""The demo's demand-response event (`lec flex demo-event`, a step of `make demo-oracle`), and the simulated
members' response to it.

Once per community and day: six members with a wallet declare a shiftable load (3 kW, every day 17:00–21:00,
one hour's notice), the demo buyer `lec-flex-buyer-demo` asks over REST for a 12 kW reduction from 18:00 to 19:00,
the community dispatches it, and the dispatched members respond: their consumption and exchange meters read 40 %
of what the simulator generated in the event's quarter hours. The period run of that day then measures the
deliveries against the PJM baseline and adds the flexibility rewards to the members' leaves.

`lec oracle simulate` calls :func:`apply_response` on what it generates, so a second `make demo` regenerates the
responded values, not the originals: the readings match what is stored and nothing is recorded twice.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from lec.calendar import ROME
from lec.db.enums import DeviceKind
from lec.db.models import CounterReading, Device, UserCommunity
from lec.db.models.flex import EventSource, FlexDeclaration, FlexDispatch, FlexEvent, FlexPrice
from lec.flex.declarations import LoadKind
from oracle.flex.service import EventRequest, receive_event
from oracle.validation import Reading

BUYER = "lec-flex-buyer-demo"
PARTICIPANTS = 6
DECLARED_W = 3_000
REQUEST_W = 12_000
PRICE_CENTS_PER_KWH = 25  # the community's asking price shown to the demo buyer
RESPONSE = 0.4  # the share of their load the responding members keep drawing during the event
RESPONDING_KINDS = (DeviceKind.CONSUMPTION_METER, DeviceKind.EXCHANGE_METER)


def event_id(day: date) -> str:
    return f"demo-dr-{day.isoformat()}"


def respond(value: float) -> float:
    """A responding member's reading in an event quarter hour, from what it would have drawn."""
    return round(value * RESPONSE, 1) if value > 0 else value


def responding(session: Session, community_id: int) -> dict[int, list[tuple[datetime, datetime]]]:
    """The devices that respond to the community's demo events, with the events' windows."""
    rows = session.exec(
        select(Device.id, FlexEvent.start, FlexEvent.end)
        .join(FlexDispatch, FlexDispatch.event_id == FlexEvent.id)  # type: ignore[arg-type]
        .join(Device, Device.user_id == FlexDispatch.user_id)  # type: ignore[arg-type]
        .where(
            FlexEvent.community_id == community_id,
            FlexEvent.buyer == BUYER,
            FlexEvent.external_id.startswith("demo-dr-"),  # type: ignore[attr-defined]
            FlexDispatch.opted_out_at.is_(None),  # type: ignore[union-attr]
            Device.community_id == community_id,
            Device.kind.in_(RESPONDING_KINDS),  # type: ignore[attr-defined]
        )
    ).all()
    windows: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for device_id, start, end in rows:
        if device_id is not None:
            windows[device_id].append((start, end))
    return dict(windows)


def apply_response(session: Session, community_id: int, readings: list[Reading]) -> list[Reading]:
    """The simulator's readings with the demo events' response applied (unchanged without a demo event)."""
    windows = responding(session, community_id)
    if not windows:
        return readings
    return [
        dataclasses.replace(r, energy_wh=respond(r.energy_wh))
        if any(s <= r.timestamp < e for s, e in windows.get(r.device_id, ()))
        else r
        for r in readings
    ]


def demo_event(session: Session, community_id: int, day: date) -> str:
    """Record the demo's event of ``day`` once (declarations, event, dispatch, the members' response); a second
    call changes nothing. Returns what was done, in a sentence."""
    start = datetime.combine(day, time(18), tzinfo=ROME)
    existing = session.exec(
        select(FlexEvent).where(
            FlexEvent.community_id == community_id,
            FlexEvent.source == EventSource.REST,
            FlexEvent.external_id == event_id(day),
        )
    ).first()
    if existing is not None:
        return f"The demo's flexibility event of {day} is already recorded: nothing changed."
    members = session.exec(
        select(UserCommunity)
        .where(
            UserCommunity.community_id == community_id,
            UserCommunity.active == sa.true(),
            UserCommunity.wallet.is_not(None),  # type: ignore[union-attr]
        )
        .order_by(UserCommunity.user_id)  # type: ignore[arg-type]
    ).all()[:PARTICIPANTS]
    for member in members:
        declared = session.exec(
            select(FlexDeclaration).where(
                FlexDeclaration.community_id == community_id, FlexDeclaration.user_id == member.user_id
            )
        ).first()
        if declared is None:
            session.add(
                FlexDeclaration(
                    community_id=community_id,
                    user_id=member.user_id,
                    kind=LoadKind.SHIFTABLE,
                    power_w=DECLARED_W,
                    start_minute=17 * 60,
                    end_minute=21 * 60,
                    notice_minutes=60,
                )
            )
    if session.get(FlexPrice, community_id) is None:
        session.add(FlexPrice(community_id=community_id, price_cents_per_kwh=PRICE_CENTS_PER_KWH))
    session.commit()
    utc_start = start
    event = receive_event(
        session,
        EventRequest(
            community_id, EventSource.REST, event_id(day), BUYER, utc_start, utc_start + timedelta(hours=1), REQUEST_W
        ),
        utc_start - timedelta(days=1),
        10_000,
    )
    windows = responding(session, community_id)
    changed = 0
    for reading in session.exec(
        select(CounterReading).where(
            CounterReading.community_id == community_id,
            CounterReading.device_id.in_(list(windows)),  # type: ignore[attr-defined]
            CounterReading.timestamp >= event.start,
            CounterReading.timestamp < event.end,
        )
    ).all():
        if reading.energy_wh is not None and reading.energy_wh > 0:
            reading.energy_wh = respond(reading.energy_wh)
            changed += 1
    session.commit()
    return (
        f"Flexibility event {event_id(day)}: {event.request_w / 1000:g} kW asked 18:00–19:00, "
        f"{event.committed_w / 1000:g} kW committed ({event.decision.value}); {changed} readings of responding "
        "members adjusted."
    )


def buyer_offer(identity_file: Path, api_url: str, community_id: int) -> str:
    """What the demo buyer reads with its client-credentials token (the secret from the demo's identity file):
    the community's aggregated offer for the next 48 hours and its price, in a sentence."""
    import requests

    identity = json.loads(identity_file.read_text())
    secret = identity.get("flex_buyer_client_secret")
    if not secret:
        raise ValueError(f"{identity_file} has no flexibility buyer: run `lec demo-identity` again.")
    token_url = f"{identity['keycloak_url'].rstrip('/')}/realms/{identity['realm']}/protocol/openid-connect/token"
    token = requests.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": identity["flex_buyer_client_id"],
            "client_secret": secret,
        },
        timeout=30,
    )
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    reply = requests.get(
        f"{api_url.rstrip('/')}/communities/{community_id}/flexibility/offer",
        params={"hours": 48},
        headers=headers,
        timeout=60,
    )
    reply.raise_for_status()
    offer = reply.json()
    published = [s for s in offer["slots"] if not s["withheld"]]
    price = offer.get("price_cents_per_kwh")
    return (
        f"The buyer {identity['flex_buyer_client_id']} read community {community_id}'s offer: "
        f"{len(published)} of {len(offer['slots'])} quarter hours published (k = {offer['k']}), up to "
        f"{max((s['down_w'] for s in published), default=0) / 1000:g} kW down, price "
        + (f"{price / 100:.2f} € per kWh." if price is not None else "not set.")
    )
