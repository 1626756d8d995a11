"""The synthetic community: deterministic per seed, physically plausible, valid by our own validation, demo wallets."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from lec.calendar import ROME
from lec.db.enums import EnergyProfile, FlowQuantity, MemberKind
from lec.db.models import CounterReading, Device, Flow, UserCommunity, WeatherData
from lec.db.session import get_engine, init_db
from oracle.ingest.store import load_catalogue
from oracle.simulate.community import simulate
from oracle.validation import Reading, validate

START = date(2026, 3, 28)  # 29 March 2026 is the spring DST change: a 92-quarter-hour day
ANVIL_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ANVIL_8 = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"


def _run(tmp_path: Path, name: str, seed: int, members: int = 10, deployments: Path | None = None) -> sa.Engine:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / name}"))
    simulate(engine, members, 3, START, seed=seed, deployments=deployments or tmp_path / "no-deployments")
    return engine


def _rows(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.exec_driver_sql(
                "SELECT d.pod, c.timestamp, c.energy_wh FROM counterreading c JOIN devices d ON d.id = c.device_id "
                "ORDER BY d.pod, c.timestamp"
            )
        ]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    return _run(tmp_path_factory.mktemp("sim"), "a.db", seed=7)


def test_same_seed_same_community_other_seed_other_curves(simulated: sa.Engine, tmp_path: Path) -> None:
    again = _run(tmp_path, "b.db", seed=7)
    assert _rows(again) == _rows(simulated)
    other = _run(tmp_path, "c.db", seed=8)
    assert [r[2] for r in _rows(other)] != [r[2] for r in _rows(simulated)]


def test_rerun_adds_nothing(simulated: sa.Engine) -> None:
    before = _rows(simulated)
    result = simulate(simulated, 10, 3, START, seed=7, deployments=Path("/nonexistent"))
    assert result.readings == 0 and result.duplicates == len(before)
    assert _rows(simulated) == before


def test_every_device_has_every_quarter_hour_including_the_dst_day(simulated: sa.Engine) -> None:
    with Session(simulated) as session:
        readings = session.exec(select(CounterReading)).all()
    per_device_day: Counter[tuple[int, date]] = Counter()
    for r in readings:
        per_device_day[(r.device_id, r.timestamp.astimezone(_rome()).date())] += 1
    quarters = {day: {n for (_, d), n in per_device_day.items() if d == day} for day in {d for _, d in per_device_day}}
    assert quarters == {date(2026, 3, 28): {96}, date(2026, 3, 29): {92}, date(2026, 3, 30): {96}}


def test_signs_daylight_and_magnitudes_are_plausible(simulated: sa.Engine) -> None:
    with Session(simulated) as session:
        quantity = {f.id: f.quantity for f in session.exec(select(Flow)).all()}
        readings = session.exec(select(CounterReading)).all()
    by_quantity: dict[FlowQuantity, list[CounterReading]] = defaultdict(list)
    for r in readings:
        by_quantity[quantity[r.flow_id]].append(r)
    assert all(r.energy_wh >= 0 for r in by_quantity[FlowQuantity.LOAD])
    assert all(r.energy_wh <= 0 for r in by_quantity[FlowQuantity.PRODUCTION])
    night = [r.energy_wh for r in by_quantity[FlowQuantity.PRODUCTION] if r.timestamp.astimezone(_rome()).hour < 5]
    noon = [r.energy_wh for r in by_quantity[FlowQuantity.PRODUCTION] if r.timestamp.astimezone(_rome()).hour == 12]
    assert night and all(v == 0 for v in night) and min(noon) < -100  # a 3 kWp plant makes >100 Wh per noon quarter
    # Households use 1 500–3 800 kWh a year: a member-day of load is a few kWh, a school's tens of kWh.
    daily_kwh = sum(r.energy_wh for r in by_quantity[FlowQuantity.LOAD]) / 1000 / 3 / 10
    assert 3 < daily_kwh < 60
    assert by_quantity[FlowQuantity.STORAGE] and by_quantity[FlowQuantity.EXCHANGE]


def test_exchange_meter_is_load_plus_production_plus_battery(simulated: sa.Engine) -> None:
    with Session(simulated) as session:
        devices = {d.id: d for d in session.exec(select(Device)).all()}
        readings = session.exec(select(CounterReading)).all()
    value = {(devices[r.device_id].pod, r.timestamp): r.energy_wh for r in readings}
    exchange_pods = [d.pod for d in devices.values() if d.pod.endswith("X")]
    assert exchange_pods
    for pod in exchange_pods:
        base = pod[:-1]
        for (p, ts), v in value.items():
            if p == pod:
                assert v == pytest.approx(
                    value[(base, ts)] + value[(base + "P", ts)] + value[(base + "B", ts)], abs=0.2
                )


def test_simulated_readings_pass_the_ingestion_validation(simulated: sa.Engine) -> None:
    catalogue = load_catalogue(simulated)
    pods = {info.id: pod for pod, info in catalogue.devices.items()}
    with Session(simulated) as session:
        readings = session.exec(select(CounterReading)).all()
    now = datetime(2026, 4, 1, tzinfo=UTC)
    for r in readings:
        raw = {
            "device": pods[r.device_id],
            "flow": r.flow_id,
            "timestamp": r.timestamp.isoformat(),
            "energy_wh": r.energy_wh,
        }
        assert isinstance(validate(raw, catalogue, now), Reading), raw


def test_weather_station_records_cloudiness(simulated: sa.Engine) -> None:
    with Session(simulated) as session:
        weather = session.exec(select(WeatherData)).all()
    assert len(weather) == 96 + 92 + 96
    assert all(0 <= w.cloud_cover <= 1 and w.ghi_w_m2 >= 0 for w in weather)


def test_members_take_the_demo_wallets_when_deployed(tmp_path: Path) -> None:
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    (deployments / "1981.json").write_text(
        json.dumps({"chainId": 1981, "contracts": {}, "communities": [{"id": 1, "name": "Demo LEC", "token": "0x0"}]})
    )
    engine = _run(tmp_path, "w.db", seed=3, members=10, deployments=deployments)
    with Session(engine) as session:
        members = sorted(session.exec(select(UserCommunity)).all(), key=lambda m: m.user_id)
        community_name = session.connection().exec_driver_sql("SELECT name, chain_community_id FROM communities").one()
    assert tuple(community_name) == ("Demo LEC", 1)
    wallets = [m.wallet for m in members]
    assert wallets[0] == ANVIL_1 and wallets[7] == ANVIL_8
    assert len(set(wallets)) == 10 and all(w and w.startswith("0x") and len(w) == 42 for w in wallets)
    # The first eight mirror scripts/seed.py's on-chain kinds and profiles.
    assert (members[2].member_kind, members[2].energy_profile) == (MemberKind.CITIZEN, EnergyProfile.PROSTORMER)
    assert (members[6].member_kind, members[6].energy_profile) == (MemberKind.STAKEHOLDER, EnergyProfile.PROSUMER)
    # Generated wallets beyond the demo's eight are deterministic.
    again = _run(tmp_path, "w2.db", seed=3, members=10, deployments=deployments)
    with Session(again) as session:
        assert sorted(m.wallet for m in session.exec(select(UserCommunity)).all()) == sorted(wallets)


def _rome():
    return ROME


def test_load_curve_follows_the_daily_shape(simulated: sa.Engine) -> None:
    """Households consume more in the evening than at 4 a.m. (BDEW H0's shape survives the noise)."""
    with Session(simulated) as session:
        households = [
            d.id
            for d in session.exec(select(Device)).all()
            if d.name.startswith("household") and d.name.endswith("load")
        ]
        readings = [r for r in session.exec(select(CounterReading)).all() if r.device_id in households]
    hour = np.array([r.timestamp.astimezone(_rome()).hour for r in readings])
    energy = np.array([r.energy_wh for r in readings])
    assert energy[(hour >= 19) & (hour < 21)].mean() > 1.5 * energy[(hour >= 3) & (hour < 5)].mean()
