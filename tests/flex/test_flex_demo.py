"""The demo's DR event (`lec flex demo-event`, a step of `make demo-oracle`): recorded once, the simulated members
respond, a second simulation regenerates the responded readings (nothing conflicts, nothing is stored twice), and
the day's settlement rewards the responding members."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from lec.db.models import Anomaly, CounterReading
from lec.db.models.flex import FlexDeclaration, FlexDispatch, FlexEvent
from lec.db.session import get_engine, init_db
from lec.flex.baseline import PJM
from oracle.flex.demo import PARTICIPANTS, demo_event
from oracle.flex.rewards import FlexibilityModel
from oracle.flex.service import settle_day
from oracle.flex.settlement import FlexModelRef
from oracle.simulate.community import simulate

START = date(2026, 3, 2)  # a Monday; the event on the 8th day, Monday 9 March
DAY = date(2026, 3, 9)
PARAMS = {"rate": 5 * 10**17, "min_performance_bps": 1_000, "max_per_period": 10**20}


def _counts(engine) -> tuple[int, int, float]:
    with engine.connect() as c:
        return (
            c.execute(sa.select(sa.func.count()).select_from(CounterReading)).scalar_one(),
            c.execute(sa.select(sa.func.count()).select_from(Anomaly)).scalar_one(),
            c.execute(sa.select(sa.func.sum(CounterReading.energy_wh))).scalar_one(),
        )


def test_the_demo_event_is_recorded_once_and_rewards_the_responding_members(tmp_path):
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'demo.db'}"))
    simulate(engine, members=8, days=8, start=START)
    before = _counts(engine)
    with Session(engine) as session:
        said = demo_event(session, 1, DAY)
        assert "12 kW asked" in said and "opted-in" in said
        event = session.exec(select(FlexEvent)).one()
        assert len(session.exec(select(FlexDeclaration)).all()) == PARTICIPANTS
        dispatches = session.exec(select(FlexDispatch).where(FlexDispatch.event_id == event.id)).all()
        assert len(dispatches) == PARTICIPANTS and sum(d.share_w for d in dispatches) == 12_000
    after = _counts(engine)
    assert after[:2] == before[:2] and after[2] < before[2]  # the same rows, the event's load lowered

    with Session(engine) as session:
        assert "nothing changed" in demo_event(session, 1, DAY)
    simulate(engine, members=8, days=8, start=START)  # `make demo` again: the responded values are regenerated
    assert _counts(engine) == after

    with Session(engine) as session:
        model = FlexModelRef(1, FlexibilityModel("lec-flexibility", PARAMS), "{}")
        settled = settle_day(session, 1, 1, DAY, model, PJM)
    assert settled is not None and len(settled.events) == 1
    assert len(settled.events[0].deliveries) >= PARTICIPANTS - 1
    assert len(settled.amounts) >= PARTICIPANTS // 2 and settled.total > 0
