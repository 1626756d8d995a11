"""`lec oracle kpi`'s service over the database: the exchange meter counts as in the period's KPIs and rewards."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from sqlmodel import select

from lec.calendar import day_grid
from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import (
    Community,
    CounterReading,
    DerivedTimeSeries,
    Device,
    Flow,
    MemberDailyKpi,
    User,
    UserCommunity,
)
from oracle.pipeline import ModelRef, compute_period
from oracle.rewards.models import RewardModel
from oracle.series import kpi_report, load_series
from oracle.sources import load_inputs, open_session

DAY = date(2026, 3, 29)  # spring DST: 92 quarter hours
A = "0x" + "00" * 19 + "0a"
B = "0x" + "00" * 19 + "0b"
MODEL = ModelRef(1, RewardModel("sc", "self-consumption", {"a": 1000, "b": 500, "c": 250, "max_per_period": 10**6}))


@pytest.fixture
def community(monkeypatch, tmp_path) -> None:
    """A with a home meter and a grid (exchange) meter that sees an injection at hour 10, B with a home meter."""
    monkeypatch.setenv("LEC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    grid = day_grid(DAY)
    exchange = np.full(grid.size, 100.0)
    exchange[40:44] = -300
    meters = {
        A: [("POD-A", DeviceKind.CONSUMPTION_METER, FlowQuantity.LOAD, np.full(grid.size, 100.0))],
        B: [("POD-B", DeviceKind.CONSUMPTION_METER, FlowQuantity.LOAD, np.full(grid.size, 50.0))],
    }
    meters[A].append(("X-A", DeviceKind.EXCHANGE_METER, FlowQuantity.EXCHANGE, exchange))
    with open_session() as session:
        lec = Community(name="Exchange LEC", chain_community_id=1)
        flows = {q: Flow(name=q.value, quantity=q) for q in (FlowQuantity.LOAD, FlowQuantity.EXCHANGE)}
        session.add_all([lec, *flows.values()])
        session.flush()
        for i, (wallet, devices) in enumerate(meters.items()):
            user = User(external_id=f"u{i}", name=f"N{i}", surname=f"S{i}", email=f"u{i}@example.org")
            session.add(user)
            session.flush()
            session.add(UserCommunity(community_id=lec.id, user_id=user.id, wallet=wallet))
            for pod, kind, quantity, values in devices:
                device = Device(pod=pod, community_id=lec.id, user_id=user.id, kind=kind, name=pod)
                session.add(device)
                session.flush()
                session.add_all(
                    CounterReading(
                        device_id=device.id,
                        flow_id=flows[quantity].id,
                        community_id=lec.id,
                        timestamp=datetime.fromtimestamp(int(t), UTC),
                        energy_wh=float(v),
                        tsi=int(t) * 1000,
                    )
                    for t, v in zip(grid, values, strict=True)
                )
        session.commit()


def test_kpi_report_reads_the_exchange_meter_as_the_period_run(community):
    kpis = kpi_report(1, DAY, DAY)
    with open_session() as session:
        inputs = load_inputs(session, 1, DAY)
        names = set(session.exec(select(DerivedTimeSeries.name)))
    salts = {d.device_id: bytes([i]) * 32 for i, d in enumerate(d for m in inputs.members for d in m.devices)}
    period = compute_period(inputs, MODEL, salts)
    # Hour 10: I = 4·300 Wh (A's grid meter), W = 4·50 Wh (B): S = 200 Wh.
    assert kpis["shared_energy_kwh"] == pytest.approx(0.2) == pytest.approx(period.kpis.shared_energy_kwh)
    assert kpis["injection_kwh"] == pytest.approx(period.kpis.injection_kwh) == pytest.approx(1.2)
    assert kpis["withdrawal_kwh"] == pytest.approx(period.kpis.withdrawal_kwh)
    assert "community daily load" in names


def test_load_series_keeps_one_member_apart(community):
    series = load_series(1, DAY, DAY, member=B)
    assert list(series.members) == [B]
    assert np.isnan(np.concatenate(series.members[B].injection)).all()  # no grid meter: derived later


def test_the_dashboards_daily_figures_honour_the_exchange_meter_as_lec_oracle_kpi(community):
    """The API's read model and `lec oracle kpi` give the same member-day figures, exchange meter included."""
    from dapp.api.aggregates import refresh

    with open_session() as session:
        lec = session.exec(select(Community).where(Community.chain_community_id == 1)).one()
        refresh(session, lec.id, [DAY])
        rows = {
            m.wallet: row
            for m, row in session.exec(
                select(UserCommunity, MemberDailyKpi).where(
                    UserCommunity.user_id == MemberDailyKpi.user_id, MemberDailyKpi.community_id == lec.id
                )
            )
        }
    for wallet in (A, B):
        kpis = kpi_report(1, DAY, DAY, wallet)
        row = rows[wallet]
        assert row.injection_wh == pytest.approx(1000 * kpis["injection_kwh"])
        assert row.withdrawal_wh == pytest.approx(1000 * kpis["withdrawal_kwh"])
        assert row.load_wh == pytest.approx(1000 * kpis["load_kwh"])
    # A's grid meter registered 4 × 300 Wh of injection at hour 10, where its home meter alone shows none.
    assert rows[A].injection_wh == 1200 and rows[A].withdrawal_wh == 100 * (92 - 4)
