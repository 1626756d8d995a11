"""A consumption cluster's target curve, without Keycloak: the pure rule worked by hand (PV-hours share, gaps hour by
hour, the overlap of the two curves, the states shared with the self-sufficiency objective, the refusals of a bad
curve) with a hypothesis property, and the service over real readings — local hours in a DST month, members of
the cluster only, a cluster below k never shown, the admin sees every cluster and a member only their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from dapp.api.deps import CommunityAccess
from dapp.api.security import Principal
from dapp.api.services import lab_objectives, lab_voice
from dapp.api.services.lab import LabError
from lec.db.enums import DeviceKind, FlowQuantity
from lec.db.models import (
    Cluster,
    ClusterGroup,
    ClusterUser,
    Community,
    Device,
    Flow,
    LabClusterObjective,
    User,
    UserCommunity,
)
from lec.db.session import get_engine, init_db
from lec.lab.objectives import check_target_curve, curve_with_pv_share, evaluate_curve, hourly_shares, pv_share
from tests.lab.lab_helpers import day_readings

# 20 % over 0–9, 60 % in the PV hours 10–15, 20 % over 16–23
TARGET = [2.0] * 10 + [10.0] * 6 + [2.5] * 8
FLAT = [100.0] * 24  # the same Wh every hour
OCT = "2026-10"  # summer time ends on Sunday 25 October 2026 (a 25-hour day)


def test_a_flat_day_against_a_target_that_wants_the_sun_hours():
    c = evaluate_curve(TARGET, FLAT, OCT, 3, date(2026, 10, 4))
    assert (c.progress.target_pct, c.progress.achieved_pct, c.progress.status) == (60.0, 25.0, "behind")
    # 100/24 = 4.17 % each hour; gap = actual − target
    assert c.gaps is not None and (c.gaps[0], c.gaps[10], c.gaps[16]) == (2.17, -5.83, 1.67)
    # overlap: 10 h × 2 + 6 h × 4.1667 + 8 h × 2.5 = 20 + 25 + 20
    assert c.match_pct == 65.0
    assert c.progress.days_with_data == 3 and c.progress.days_elapsed == 4 and c.progress.days_in_month == 31


def test_a_day_with_the_target_shape_matches_fully_whatever_its_scale():
    quarter_hours = [x * 7 / 4 for x in TARGET for _ in range(4)]  # 96 slots, Wh, any scale
    c = evaluate_curve(TARGET, quarter_hours, OCT, 31, date(2026, 11, 2))
    assert (c.match_pct, c.progress.achieved_pct, c.progress.status) == (100.0, 60.0, "reached")
    assert c.gaps == [0.0] * 24


def test_states_not_started_and_no_data():
    assert evaluate_curve(TARGET, FLAT, OCT, 1, date(2026, 9, 30)).progress.status == "not_started"
    nothing = evaluate_curve(TARGET, None, OCT, 0, date(2026, 10, 5))
    assert (nothing.progress.status, nothing.actual, nothing.gaps, nothing.match_pct) == ("no_data", None, None, None)
    zero = evaluate_curve(TARGET, [0.0] * 96, OCT, 2, date(2026, 10, 5))
    assert zero.progress.status == "no_data"
    assert evaluate_curve(TARGET, FLAT, OCT, 31, date(2026, 11, 1)).progress.status == "missed"


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ([100 / 23] * 23, "24 values, not 23"),
        ([5.0] * 24, "add up to 100 %; these add up to 120.0"),
        ([-1.0] + [101 / 23] * 23, "0 or more"),
        ([float("nan")] + [100 / 23] * 23, "0 or more"),
    ],
)
def test_a_bad_target_curve_is_refused_with_a_sentence(values, sentence):
    with pytest.raises(ValueError, match=sentence):
        check_target_curve(values)


def test_a_typed_curve_within_half_a_point_is_accepted_and_rounded():
    assert check_target_curve([100 / 24] * 24) == [4.17] * 24  # sums to 100.08
    with pytest.raises(ValueError, match="slots"):
        hourly_shares([1.0] * 25)


@given(
    st.lists(st.floats(0, 1000), min_size=96, max_size=96),
    st.lists(st.integers(0, 50), min_size=24, max_size=24).filter(lambda xs: sum(xs) > 0),
)
def test_the_overlap_and_the_gaps_are_consistent_with_the_shares(curve, weights):
    target = [100 * w / sum(weights) for w in weights]
    c = evaluate_curve(target, curve, OCT, 5, date(2026, 10, 10))
    if sum(curve) <= 0:
        assert c.actual is None and c.progress.status == "no_data"
        return
    assert c.actual is not None and c.gaps is not None and c.match_pct is not None
    # both curves are shares of one day (24 values rounded to 0.01 each)
    assert abs(sum(c.actual) - 100) <= 0.13 and abs(sum(c.gaps)) <= 0.25
    # overlap = 100 − half the total absolute gap (the two curves' total variation distance)
    assert abs(c.match_pct - (100 - sum(abs(g) for g in c.gaps) / 2)) <= 0.3
    assert 0 <= c.match_pct <= 100.0001
    assert c.progress.achieved_pct == round(pv_share(hourly_shares(curve) or []), 2)
    assert c.progress.status == ("on_track" if c.progress.achieved_pct >= c.progress.target_pct else "behind")


# ---- the service over readings -------------------------------------------------------------------------


@dataclass
class Place:
    session: Session
    admin: CommunityAccess
    members: list[User]
    big: int  # a cluster of three active members (plus one inactive)
    small: int  # a cluster of two
    foreign: int  # a cluster of another community
    community: int


def _access(s: Session, community: Community, user: User, roles: set[str]) -> CommunityAccess:
    principal = Principal(user.external_id, user.name, frozenset(roles), "lec-dapp")
    return CommunityAccess(community, principal, user, s.get(UserCommunity, (community.id, user.id)), frozenset(roles))


@pytest.fixture
def place(tmp_path) -> Iterator[Place]:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'curves.db'}"))
    with Session(engine) as s:
        lec, other = Community(name="Curve LEC"), Community(name="Other curve LEC")
        people = [User(external_id=f"sub-c{i}", name=f"M{i}", surname="N", email=f"c{i}@example.org") for i in range(8)]
        s.add_all([lec, other, *people])
        s.flush()
        flow = Flow(name="curve-load", quantity=FlowQuantity.LOAD)
        s.add(flow)
        groups = [ClusterGroup(name="load", description="", community_id=c.id) for c in (lec, lec, other)]
        s.add_all(groups)
        s.flush()
        big, small, foreign = (
            Cluster(group_id=g.id, community_id=g.community_id, description=d)
            for g, d in zip(groups, ("Famiglie serali", "Uffici", "Altrove"), strict=True)
        )
        s.add_all([big, small, foreign])
        s.flush()
        # 0..3 in the big cluster (3 inactive), 4..5 in the small one, 6 in another community, 7 the admin
        for i, user in enumerate(people):
            community = other if i == 6 else lec
            s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet=f"0x{i + 1:040x}", active=i != 3))
            cluster = big if i <= 3 else small if i <= 5 else foreign if i == 6 else None
            if cluster is not None:
                s.add(ClusterUser(cluster_id=cluster.id, user_id=user.id))
            device = Device(pod=f"IT-CURVE-{i}", community_id=community.id, user_id=user.id,
                            kind=DeviceKind.CONSUMPTION_METER, name=f"meter {i}", default_flow_id=flow.id)  # fmt: skip
            s.add(device)
            s.flush()
            for day in (date(2026, 10, 24), date(2026, 10, 25)):  # summer time, then the 25-hour day
                # the big cluster's members: 30 Wh per quarter hour in the sun hours, 10 otherwise; the rest flat
                day_readings(s, device, flow.id, day, 30.0 if i <= 3 else 10.0, 10.0)
        s.commit()
        admin = _access(s, lec, people[7], {"community-admin"})
        yield Place(s, admin, people, big.id, small.id, foreign.id, lec.id)  # type: ignore[arg-type]


def _on(monkeypatch, day: date) -> None:
    monkeypatch.setattr(lab_objectives, "today", lambda now=None: day)


def test_the_clusters_curve_is_read_in_local_hours_across_the_dst_change(place, monkeypatch):
    _on(monkeypatch, date(2026, 10, 26))
    lab_objectives.set_cluster_objective(place.session, place.admin, place.big, OCT, TARGET)
    [e] = lab_objectives.evaluated_clusters(place.session, place.admin)
    assert e.members == 3 and e.progress is not None  # the inactive member is not counted, nor read
    p = e.progress
    # per member and day: 6 sun hours × 4 × 30 Wh = 720, 18 other hours × 4 × 10 Wh = 720 → 50 % in the PV hours
    # (by UTC hours it would be 44.4 %: the sun block would slide by the offset); the repeated hour 02:00 of the
    # 25th is averaged into its slot, not counted twice
    assert p.progress.achieved_pct == 50.0 and p.progress.days_with_data == 2
    assert p.actual is not None and [round(x, 2) for x in p.actual[9:11]] == [2.78, 8.33]
    assert p.actual[2] == p.actual[1]
    assert p.progress.status == "behind" and p.progress.target_pct == 60.0  # 50 < 60, month still running
    assert p.gaps is not None and p.gaps[10] == round(8.3333 - 10.0, 2)


def test_a_cluster_below_k_is_refused_and_never_shown(place, monkeypatch):
    _on(monkeypatch, date(2026, 10, 26))
    with pytest.raises(LabError, match="fewer than 3 active members") as refused:
        lab_objectives.set_cluster_objective(place.session, place.admin, place.small, OCT, TARGET)
    assert refused.value.status == 409
    # a cluster that shrinks below k after the objective was set: the target stays, the figures go
    lab_objectives.set_cluster_objective(place.session, place.admin, place.big, OCT, TARGET)
    member = place.session.get(UserCommunity, (place.community, place.members[2].id))
    assert member is not None
    member.active = False
    place.session.add(member)
    place.session.commit()
    [e] = lab_objectives.evaluated_clusters(place.session, place.admin)
    assert e.members == 2 and e.progress is None


def test_refusals_another_communitys_cluster_a_past_month_a_bad_curve(place, monkeypatch):
    _on(monkeypatch, date(2026, 10, 26))
    with pytest.raises(LabError, match="no cluster") as foreign:
        lab_objectives.set_cluster_objective(place.session, place.admin, place.foreign, OCT, TARGET)
    assert foreign.value.status == 404
    with pytest.raises(LabError, match="is over"):
        lab_objectives.set_cluster_objective(place.session, place.admin, place.big, "2026-09", TARGET)
    with pytest.raises(LabError, match="add up to 100"):
        lab_objectives.set_cluster_objective(place.session, place.admin, place.big, OCT, [1.0] * 24)


def test_setting_again_replaces_and_each_member_sees_only_their_cluster(place, monkeypatch):
    _on(monkeypatch, date(2026, 10, 26))
    first = lab_objectives.set_cluster_objective(place.session, place.admin, place.big, OCT, TARGET)
    again = lab_objectives.set_cluster_objective(place.session, place.admin, place.big, OCT, [100 / 24] * 24)
    assert again.id == first.id and len(place.session.exec(select(LabClusterObjective)).all()) == 1
    community = place.session.get(Community, place.community)
    inside = _access(place.session, community, place.members[0], {"token-holder"})
    outside = _access(place.session, community, place.members[4], {"token-holder"})
    assert [e.objective.id for e in lab_objectives.evaluated_clusters(place.session, inside)] == [first.id]
    assert lab_objectives.evaluated_clusters(place.session, outside) == []


def test_forgetting_the_admin_keeps_the_cluster_objective_unsigned(place, monkeypatch):
    _on(monkeypatch, date(2026, 10, 26))
    row = lab_objectives.set_cluster_objective(place.session, place.admin, place.big, OCT, TARGET)
    assert row.set_by == place.members[7].id
    lab_voice.forget_voice(place.session, place.members[7].id)
    place.session.commit()
    kept = place.session.get(LabClusterObjective, row.id)
    assert kept is not None and kept.set_by is None


def test_a_proposed_target_keeps_the_days_shape_and_moves_the_share_into_the_sun_hours():
    # flat day (25 % in the 6 PV hours) → 60 %: each PV hour 10 %, each other hour 40 / 18 = 2.22 %
    target = curve_with_pv_share(None, 60)
    assert target[10] == 10.0 and target[0] == 2.22 and round(pv_share(target), 2) == 60.0
    evening = [1.0] * 10 + [0.0] * 6 + [3.0] * 8  # nothing in the PV hours: spread evenly there
    moved = curve_with_pv_share(evening, 30)
    assert moved[10:16] == [5.0] * 6 and moved[16] == round(70 * 3 / 34, 2) and moved[0] == round(70 / 34, 2)
    with pytest.raises(ValueError, match="between 0 and 100"):
        curve_with_pv_share(None, 120)


@given(st.lists(st.floats(0, 100), min_size=24, max_size=24), st.floats(0, 100))
def test_a_proposed_target_is_always_an_acceptable_curve_with_the_asked_share(shares, pct):
    target = curve_with_pv_share(shares, pct)
    assert check_target_curve(target) == target  # 24 shares ≥ 0 summing to 100 (± rounding)
    assert abs(pv_share(target) - pct) <= 0.06
