"""Readings that never came become anomalies with a reason: a silent device, each gap of the others; once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from lec.calendar import day_grid
from lec.db.enums import AnomalyReason, DeviceKind
from lec.db.models import Anomaly, Community, Device, User
from lec.db.session import get_engine, init_db
from oracle.clean import clean_day
from oracle.gaps import find_silences, record_silences

DAY = date(2026, 5, 4)  # 96 quarter hours, local midnight 22:00 UTC the day before


def _day(missing: slice | None = None):  # noqa: ANN202
    grid = day_grid(DAY)
    values = np.full(grid.size, 100.0)
    keep = np.ones(grid.size, dtype=bool)
    if missing is not None:
        keep[missing] = False
    return clean_day(grid[keep], values[keep], DAY)


def test_silent_device_and_gaps_by_hand():
    cleaned = {"A": _day(slice(40, 44)), "B#load": _day(slice(0, 96 // 2)), "C": _day()}
    found = find_silences(DAY, ["A", "B", "C", "D"], cleaned)
    assert [(s.pod, s.reason) for s in found] == [
        ("A", AnomalyReason.MISSING_READINGS),
        ("B", AnomalyReason.MISSING_READINGS),
        ("D", AnomalyReason.SILENT_DEVICE),
    ]
    # A: quarter hours 40–43 = 10:00–11:00 local, short enough to be interpolated.
    assert found[0].message == (
        "No reading from 10:00 to 11:00 on 2026-05-04 (4 of 96 quarter hours, filled by interpolation)."
    )
    # B: the whole morning, longer than 6 h: left missing; the quantity is named.
    assert found[1].message.startswith("No load reading from 00:00 to 12:00") and "left missing" in found[1].message
    assert found[2].message == "The device sent no reading on 2026-05-04."


def test_recorded_once_for_the_communitys_member_devices(tmp_path: Path):
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'g.db'}"))
    with Session(engine) as s:
        community = Community(name="Gaps LEC", chain_community_id=5)
        user = User(external_id="g", name="G", surname="G", email="g@example.org")
        s.add_all([community, user])
        s.flush()
        s.add(Device(pod="A", community_id=community.id, user_id=user.id, kind=DeviceKind.CONSUMPTION_METER, name="A"))
        s.add(Device(pod="WS", community_id=community.id, kind=DeviceKind.WEATHER_STATION, name="WS"))
        s.commit()
        community_id = community.id
    with Session(engine) as s:
        assert record_silences(s, community_id, DAY, {}) == 1  # A is silent; the weather station is not a member's
        assert record_silences(s, community_id, DAY, {}) == 0
        rows = s.exec(select(Anomaly)).all()
        assert [(a.device_ref, a.reason, str(a.status)) for a in rows] == [("A", AnomalyReason.SILENT_DEVICE, "open")]
        assert rows[0].device_id is not None
