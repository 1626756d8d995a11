"""Neighbourhood projects' rules: the state machine (checked against every pair of states), joining, rating, and
the report's statistics with groups below k hidden."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lec.lab.projects import (
    K_ANONYMITY,
    ProjectFacts,
    ProjectRuleError,
    ProjectState,
    check_join,
    check_rating,
    check_transition,
    statistics,
)

S = ProjectState
ALLOWED = {
    (S.SUGGESTED, S.OPEN),
    (S.SUGGESTED, S.DECLINED),
    (S.OPEN, S.ACTIVE),
    (S.OPEN, S.DECLINED),
    (S.ACTIVE, S.COMPLETED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_only_the_drawn_transitions_are_allowed(current, target):
    if (current, target) in ALLOWED:
        check_transition(current, target, "a reason")
    else:
        with pytest.raises(ProjectRuleError):
            check_transition(current, target, "a reason")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_declining_needs_a_reason(reason):
    with pytest.raises(ProjectRuleError, match="reason"):
        check_transition(S.SUGGESTED, S.DECLINED, reason)


def test_join_rules():
    check_join(S.OPEN, 2, 3, already=False)
    check_join(S.ACTIVE, 10, None, already=False)
    with pytest.raises(ProjectRuleError, match="full"):
        check_join(S.OPEN, 3, 3, already=False)
    with pytest.raises(ProjectRuleError, match="already"):
        check_join(S.OPEN, 0, None, already=True)
    for state in (S.SUGGESTED, S.COMPLETED, S.DECLINED):
        with pytest.raises(ProjectRuleError, match="only open or active"):
            check_join(state, 0, None, already=False)


def test_rating_rules():
    check_rating(S.COMPLETED, True, 5)
    with pytest.raises(ProjectRuleError, match="completed"):
        check_rating(S.ACTIVE, True, 4)
    with pytest.raises(ProjectRuleError, match="took part"):
        check_rating(S.COMPLETED, False, 4)
    with pytest.raises(ProjectRuleError, match="1 to 5"):
        check_rating(S.COMPLETED, True, 6)


facts = st.builds(
    ProjectFacts,
    st.sampled_from(list(S)),
    st.integers(0, 20),
    st.integers(0, 1000),
    st.lists(st.integers(1, 5), max_size=6),
)


@given(st.lists(facts, max_size=12), st.integers(0, 50), st.data())
def test_statistics_count_states_and_hide_small_groups(projects, members, data):
    adherents = data.draw(st.integers(0, members))
    stats = statistics(projects, members, adherents)
    assert stats.active + stats.completed + stats.suggested + stats.open + stats.declined == len(projects)
    assert stats.completed == sum(p.state is S.COMPLETED for p in projects)
    completed_stars = [r for p in projects if p.state is S.COMPLETED for r in p.ratings]
    assert stats.ratings == len(completed_stars)
    if len(completed_stars) < K_ANONYMITY:
        assert stats.satisfaction is None
    else:
        assert stats.satisfaction is not None and 1 <= stats.satisfaction <= 5
    if members < K_ANONYMITY:
        assert stats.adhesion_rate is None
    else:
        assert stats.adhesion_rate == round(adherents / members, 4)
    assert stats.benefits_recorded == sum(p.benefits_recorded for p in projects if p.state is S.COMPLETED)
