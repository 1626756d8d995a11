"""Deliveries measured from the members' readings in the database, and the flexibility rewards they earn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lec.calendar import ROME
from lec.db.enums import DeviceKind
from lec.db.models import Community, CounterReading, Device, User, UserCommunity
from lec.db.models.flex import EventSource, FlexDeclaration, FlexDispatch
from lec.db.session import get_engine, init_db
from lec.flex.baseline import PJM
from lec.flex.declarations import LoadKind
from oracle.flex.rewards import FlexibilityModel, FlexibilityModelError, MemberDelivery, flexibility_rewards
from oracle.flex.service import EventRequest, measure_event, receive_event

EVENT_DAY = date(2026, 7, 15)  # a Wednesday
PAST = [date(2026, 7, 14), date(2026, 7, 13), date(2026, 7, 10), date(2026, 7, 9), date(2026, 7, 8)]
START = datetime.combine(EVENT_DAY, time(18), tzinfo=ROME).astimezone(UTC)
ACCOUNTS = {"anna": "0x" + "0a" * 20, "bruno": "0x" + "0b" * 20, "carlo": "0x" + "0c" * 20}


def quarters(day: date, start: time, hours: int) -> list[datetime]:
    first = datetime.combine(day, start, tzinfo=ROME)
    return [(first + timedelta(minutes=15 * i)).astimezone(UTC) for i in range(hours * 4)]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'flex.db'}"))
    with Session(engine) as s:
        community = Community(name="Delivery LEC")
        s.add(community)
        s.flush()
        # Event-day load 18–19: Anna drops to 100 Wh per quarter, Bruno to 400, Carlo opts out.
        event_load = {"anna": 100, "bruno": 400, "carlo": 100}
        for n, name in enumerate(ACCOUNTS):
            user = User(external_id=name, name=name, surname="T", email=f"{name}@x.example")
            s.add(user)
            s.flush()
            s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet=ACCOUNTS[name], active=True))
            s.add(
                FlexDeclaration(
                    community_id=community.id,
                    user_id=user.id,
                    kind=LoadKind.SHIFTABLE,
                    power_w=10_000,
                    notice_minutes=0,
                )
            )
            device = Device(
                pod=f"IT001E{n}",
                community_id=community.id,
                user_id=user.id,
                kind=DeviceKind.CONSUMPTION_METER,
                name=f"meter {name}",
            )
            s.add(device)
            s.flush()
            values = [(q, 500) for d in PAST for q in quarters(d, time(14), 5)]  # 14:00–19:00 on similar days
            values += [(q, 500) for q in quarters(EVENT_DAY, time(14), 3)]  # the adjustment window: as usual
            values += [(q, event_load[name]) for q in quarters(EVENT_DAY, time(18), 1)]
            s.add_all(
                CounterReading(
                    device_id=device.id, flow_id=1, community_id=community.id, timestamp=q, energy_wh=float(wh), tsi=0
                )
                for q, wh in values
            )
        s.commit()
    yield engine
    engine.dispose()


def test_deliveries_and_rewards_by_hand(engine: Engine) -> None:
    with Session(engine) as s:
        event = receive_event(
            s,
            EventRequest(1, EventSource.REST, "e1", "dso", START, START + timedelta(hours=1), 3_000),
            now=START - timedelta(hours=3),
            min_cover_bps=10_000,
        )
        assert event.committed_w == 3_000
        carlo = s.get(FlexDispatch, (event.id, 3))
        carlo.opted_out_at = START - timedelta(hours=1)
        s.add(carlo)
        s.commit()
        measured = {d.account: d for d in measure_event(s, event.id, PJM)}
    # 3 kW split among three equal members: 1000 W each = 250 Wh per quarter hour; Carlo opted out.
    assert set(measured) == {ACCOUNTS["anna"], ACCOUNTS["bruno"]}
    anna, bruno = measured[ACCOUNTS["anna"]], measured[ACCOUNTS["bruno"]]
    assert anna.baseline_wh == [500] * 4 and anna.dispatched_wh == [250] * 4
    assert anna.delivered_wh == [250] * 4 and anna.performance_bps == 10_000  # 400 below baseline, capped at 250
    assert bruno.delivered_wh == [100] * 4 and bruno.performance_bps == 4_000
    model = FlexibilityModel("flex-v1", {"rate": 10**18, "min_performance_bps": 5_000, "max_per_period": 10**21})
    # 1 token per delivered kWh: Anna 1000 Wh → 1 token; Bruno below the 50 % floor → nothing.
    assert flexibility_rewards(model, list(measured.values())) == {ACCOUNTS["anna"]: 10**18}
    lenient = FlexibilityModel("flex-v2", {**model.params, "min_performance_bps": 0})
    assert flexibility_rewards(lenient, list(measured.values())) == {
        ACCOUNTS["anna"]: 10**18,
        ACCOUNTS["bruno"]: 4 * 10**17,
    }


def test_the_budget_scales_rewards_down_exactly() -> None:
    deliveries = [MemberDelivery(f"0x{i:040x}", [0], [0], [1000], [1000]) for i in (1, 2, 3)]
    model = FlexibilityModel("capped", {"rate": 1_000, "min_performance_bps": 0, "max_per_period": 2_000})
    rewards = flexibility_rewards(model, deliveries)
    assert sum(rewards.values()) == 2_000 and sorted(rewards.values()) == [666, 667, 667]


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        ({"rate": 1, "max_per_period": 1}, "missing"),
        ({"rate": -1, "min_performance_bps": 0, "max_per_period": 1}, "non-negative"),
        ({"rate": 1, "min_performance_bps": 10_001, "max_per_period": 1}, "at most 10 000"),
    ],
)
def test_a_bad_model_is_refused(params: dict, sentence: str) -> None:
    with pytest.raises(FlexibilityModelError, match=sentence):
        FlexibilityModel("bad", params)
