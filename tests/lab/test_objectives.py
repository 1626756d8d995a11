"""Community objectives without Keycloak: the pure evaluation of a monthly self-sufficiency target (not started,
no data, on track, behind, reached, missed), and the service over the dashboards' daily rows of two members (sums
over members only, another community's rows never counted, a target replaced not duplicated, past months refused)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from dapp.api.deps import CommunityAccess
from dapp.api.security import Principal
from dapp.api.services import lab_objectives, lab_voice
from dapp.api.services.lab import LabError
from lec.db.models import Community, LabObjective, MemberDailyKpi, User
from lec.db.session import get_engine, init_db
from lec.lab.objectives import evaluate, month_bounds

NOV = "2026-11"


@pytest.mark.parametrize(
    ("today", "days", "status", "pct"),
    [
        (date(2026, 10, 31), [], "not_started", None),
        (date(2026, 11, 5), [], "no_data", None),
        (date(2026, 11, 5), [(20261101, 1000, 400), (20261102, 1000, 200)], "on_track", 30.0),
        (date(2026, 11, 5), [(20261101, 1000, 100)], "behind", 10.0),
        (date(2026, 12, 1), [(20261101, 1000, 300)], "reached", 30.0),
        (date(2026, 12, 1), [(20261101, 1000, 299)], "missed", 29.9),
        (date(2026, 11, 5), [(20261031, 1000, 1000), (20261201, 1000, 1000), (20261103, 1000, 0)], "behind", 0.0),
    ],
)
def test_the_month_is_evaluated_against_the_target(today, days, status, pct):
    p = evaluate(30.0, NOV, days, today)
    assert (p.status, p.achieved_pct) == (status, pct)
    assert p.days_in_month == 30


def test_elapsed_days_and_bad_months():
    assert evaluate(30, NOV, [], date(2026, 11, 5)).days_elapsed == 5
    assert evaluate(30, NOV, [], date(2027, 1, 5)).days_elapsed == 30
    assert month_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds("november")


@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(0, 10_000), st.integers(0, 10_000)), max_size=30),
    st.floats(1, 100),
)
def test_the_share_is_self_consumption_over_load_and_the_status_follows_it(rows, target):
    days = [(20261100 + d, load, min(sc, load)) for d, load, sc in rows]
    p = evaluate(target, NOV, days, date(2026, 12, 15))
    load, sc = sum(x[1] for x in days), sum(x[2] for x in days)
    if load == 0:
        assert p.status == "no_data" and p.achieved_pct is None
    else:
        assert p.achieved_pct == round(100 * sc / load, 2) and 0 <= p.achieved_pct <= 100
        assert p.status == ("reached" if p.achieved_pct >= target else "missed")


@pytest.fixture
def db(tmp_path) -> Iterator[tuple[Session, CommunityAccess, int]]:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'obj.db'}"))
    with Session(engine) as s:
        lab, other = Community(name="Obj LEC"), Community(name="Other LEC")
        admin = User(external_id="sub-obj", name="A", surname="B", email="a@example.org")
        people = [User(external_id=f"sub-obj-{i}", name="M", surname="N", email=f"m{i}@example.org") for i in range(3)]
        s.add_all([lab, other, admin, *people])
        s.flush()
        for user, (load, sc) in zip(people, [(1000, 500), (3000, 300)], strict=False):
            s.add(
                MemberDailyKpi(community_id=lab.id, user_id=user.id, day=20261102, load_wh=load, self_consumption_wh=sc)
            )
        s.add(
            MemberDailyKpi(
                community_id=other.id, user_id=people[2].id, day=20261102, load_wh=1000, self_consumption_wh=1000
            )
        )
        s.commit()
        principal = Principal("sub-obj", "a", frozenset({"community-admin"}), "lec-dapp")
        yield s, CommunityAccess(lab, principal, admin, None, frozenset({"community-admin"})), admin.id  # type: ignore[misc]


def test_the_service_sums_the_members_days_of_this_community_only(db, monkeypatch):
    s, access, _ = db
    monkeypatch.setattr(lab_objectives, "today", lambda now=None: date(2026, 11, 10))
    row = lab_objectives.set_objective(s, access, NOV, 25.0)
    again = lab_objectives.set_objective(s, access, NOV, 15.0)  # replaced, not duplicated
    assert again.id == row.id and again.target_pct == 15.0
    [e] = lab_objectives.evaluated(s, access)
    assert e.progress.achieved_pct == 20.0 and e.progress.status == "on_track"  # (500 + 300) / 4000
    with pytest.raises(LabError, match="is over"):
        lab_objectives.set_objective(s, access, "2026-10", 20.0)
    with pytest.raises(LabError, match="YYYY-MM"):
        lab_objectives.set_objective(s, access, "2026-13", 20.0)


def test_forgetting_the_admin_keeps_the_objective_unsigned(db, monkeypatch):
    s, access, admin_id = db
    monkeypatch.setattr(lab_objectives, "today", lambda now=None: date(2026, 11, 10))
    row = lab_objectives.set_objective(s, access, NOV, 25.0)
    assert row.set_by == admin_id
    lab_voice.forget_voice(s, admin_id)
    s.commit()
    kept = s.get(LabObjective, row.id)
    assert kept is not None and kept.set_by is None


def test_today_is_the_italian_day():
    assert lab_objectives.today(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)
