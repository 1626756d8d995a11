"""OpenADR 2.0b on loopback: an `openleadr` VTN plays the DSO, the community's VEN (openleadr's client, bound to
the database) registers, receives reduction events, opts in or out by the members' declarations, dispatches, and
reports the community's metered load back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lec.db.models import Community, CounterReading, User, UserCommunity
from lec.db.models.flex import EventDecision, EventSource, FlexDeclaration, FlexDispatch, FlexEvent
from lec.db.session import get_engine, init_db
from lec.flex.declarations import LoadKind
from oracle.flex.runner import community_ven
from oracle.flex.ven import VenConfig, parse_event
from oracle.flex.vtn import LoopbackVtn
from tests.support.ports import free_port

MEMBERS = 5


def wallet(i: int) -> str:
    return f"0x{i + 1:040x}"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'flex.db'}"))
    with Session(engine) as s:
        community = Community(name="Flex LEC")
        s.add(community)
        s.flush()
        for i in range(MEMBERS):
            user = User(external_id=f"sub-{i}", name=f"M{i}", surname="Test", email=f"m{i}@example.org")
            s.add(user)
            s.flush()
            s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet=wallet(i), active=True))
            s.add(
                FlexDeclaration(
                    community_id=community.id,
                    user_id=user.id,
                    kind=LoadKind.SHIFTABLE,
                    power_w=10_000,
                    notice_minutes=0,
                )
            )
        # The last complete quarter hour: 2.5 kWh metered over the community (10 kW).
        now = datetime.now(UTC)
        last = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) - timedelta(minutes=15)
        s.add(
            CounterReading(device_id=1, flow_id=1, community_id=community.id, timestamp=last, energy_wh=2500.0, tsi=0)
        )
        s.add(
            CounterReading(device_id=2, flow_id=2, community_id=community.id, timestamp=last, energy_wh=-900.0, tsi=0)
        )  # production: not load
        s.commit()
    yield engine
    engine.dispose()


async def _until(condition, seconds: float = 20) -> None:  # noqa: ANN001
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting on the OpenADR exchange")


@pytest.mark.services
def test_vtn_event_reaches_the_ven_which_opts_by_declarations_dispatches_and_reports(engine: Engine) -> None:
    async def scenario() -> None:
        vtn = LoopbackVtn(free_port())
        await vtn.start()
        ven = community_ven(
            VenConfig(vtn_url=vtn.url, ven_name="flex-lec", report_seconds=1), engine, 1, min_cover_bps=10_000
        )
        await ven.start()
        try:
            await _until(lambda: "flex-lec" in vtn.registered)
            ven_id = vtn.registered["flex-lec"]
            now = datetime.now(UTC)
            start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + timedelta(hours=2)
            vtn.send_reduction(ven_id, "ev-30kw", start, timedelta(hours=1), 30.0)
            vtn.send_reduction(ven_id, "ev-80kw", start, timedelta(hours=1), 80.0)  # more than declared (50 kW)
            await _until(lambda: len(vtn.opts) == 2 and bool(vtn.reports.get(ven_id)))
            assert vtn.opts == {"ev-30kw": "optIn", "ev-80kw": "optOut"}
            assert {w for _, w in vtn.reports[ven_id]} == {10_000.0}
        finally:
            await ven.stop()
            await vtn.stop()
        with Session(engine) as s:
            events = {e.external_id: e for e in s.exec(select(FlexEvent)).all()}
            assert set(events) == {"ev-30kw", "ev-80kw"}
            taken = events["ev-30kw"]
            assert (taken.source, taken.decision, taken.request_w, taken.committed_w) == (
                EventSource.OPENADR,
                EventDecision.OPTED_IN,
                30_000,
                30_000,
            )
            assert taken.end - taken.start == timedelta(hours=1)
            shares = s.exec(select(FlexDispatch.share_w).where(FlexDispatch.event_id == taken.id)).all()
            assert sorted(shares) == [6_000] * MEMBERS  # 30 kW pro rata to five equal 10 kW declarations
            refused = events["ev-80kw"]
            assert refused.decision is EventDecision.OPTED_OUT and refused.committed_w == 0
            assert s.exec(select(FlexDispatch).where(FlexDispatch.event_id == refused.id)).all() == []

    asyncio.run(scenario())


def test_only_a_load_reduction_is_understood() -> None:
    start = datetime(2026, 7, 15, 16, tzinfo=UTC)
    interval = {"dtstart": start, "duration": timedelta(hours=1), "signal_payload": -30.0}
    event = {
        "event_descriptor": {"event_id": "e"},
        "event_signals": [{"signal_name": "LOAD_DISPATCH", "signal_type": "delta", "intervals": [interval]}],
    }
    parsed = parse_event(event)
    assert parsed is not None and (parsed.request_w, parsed.end - parsed.start) == (30_000, timedelta(hours=1))
    price = {
        **event,
        "event_signals": [{"signal_name": "ELECTRICITY_PRICE", "signal_type": "price", "intervals": [interval]}],
    }
    assert parse_event(price) is None
    increase = {
        **event,
        "event_signals": [{**event["event_signals"][0], "intervals": [{**interval, "signal_payload": 5.0}]}],
    }
    assert parse_event(increase) is None
