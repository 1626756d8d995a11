"""Neighbourhood projects (report §3.4, Table 3): their states, who moves them, and the statistics the report lists.

States: suggested → open → active → completed, and suggested/open → declined (with a reason; a suggestion merged
into another project is declined with the reason naming it). The admin defines projects (born open) and decides
on members' suggestions; members join and leave open or active projects, and rate completed ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class ProjectKind(StrEnum):
    SHARING = "sharing"
    CODESIGN = "co-design"
    COGOVERNANCE = "co-governance"


class ProjectState(StrEnum):
    SUGGESTED = "suggested"
    OPEN = "open"
    ACTIVE = "active"
    COMPLETED = "completed"
    DECLINED = "declined"


TRANSITIONS: dict[ProjectState, frozenset[ProjectState]] = {
    ProjectState.SUGGESTED: frozenset({ProjectState.OPEN, ProjectState.DECLINED}),
    ProjectState.OPEN: frozenset({ProjectState.ACTIVE, ProjectState.DECLINED}),
    ProjectState.ACTIVE: frozenset({ProjectState.COMPLETED}),
    ProjectState.COMPLETED: frozenset(),
    ProjectState.DECLINED: frozenset(),
}
JOINABLE = frozenset({ProjectState.OPEN, ProjectState.ACTIVE})
K_ANONYMITY = 3
"""Statistics never show a group smaller than this many members (a rating of two neighbours is theirs to tell)."""


class ProjectRuleError(ValueError):
    """A move the project's rules refuse, as a sentence for the person."""


def check_transition(current: ProjectState, target: ProjectState, reason: str | None) -> None:
    if target not in TRANSITIONS[current]:
        raise ProjectRuleError(f"A project that is {current.value} cannot become {target.value}.")
    if target is ProjectState.DECLINED and not (reason or "").strip():
        raise ProjectRuleError("Declining a project needs a reason the members can read.")


def check_join(state: ProjectState, participants: int, capacity: int | None, already: bool) -> None:
    if already:
        raise ProjectRuleError("You already take part in this project.")
    if state not in JOINABLE:
        raise ProjectRuleError(f"You can join only open or active projects; this one is {state.value}.")
    if capacity is not None and participants >= capacity:
        raise ProjectRuleError("The project is full: its places are all taken.")


def check_rating(state: ProjectState, participant: bool, stars: int) -> None:
    if state is not ProjectState.COMPLETED:
        raise ProjectRuleError("A project can be rated once it is completed.")
    if not participant:
        raise ProjectRuleError("Only people who took part in the project can rate it.")
    if not 1 <= stars <= 5:
        raise ProjectRuleError("A rating is 1 to 5 stars.")


@dataclass(frozen=True)
class ProjectFacts:
    state: ProjectState
    participants: int
    benefits_recorded: int  # what the admin recorded at completion, in the project's own unit (e.g. kWh, hours)
    ratings: Sequence[int]


@dataclass(frozen=True)
class ProjectStatistics:
    active: int
    completed: int
    suggested: int
    open: int
    declined: int
    adhesion_rate: float | None  # members taking part in at least one open/active/completed project ÷ members
    benefits_recorded: int
    satisfaction: float | None  # mean stars over completed projects, None below K_ANONYMITY ratings
    ratings: int


def statistics(projects: Iterable[ProjectFacts], members: int, adherents: int) -> ProjectStatistics:
    """The report's indicators. `adherents` counts distinct members in any non-declined, non-suggested project.
    A rate or mean over fewer than `K_ANONYMITY` people is not shown (None)."""
    items = list(projects)
    count = {s: sum(1 for p in items if p.state is s) for s in ProjectState}
    stars = [r for p in items if p.state is ProjectState.COMPLETED for r in p.ratings]
    return ProjectStatistics(
        active=count[ProjectState.ACTIVE],
        completed=count[ProjectState.COMPLETED],
        suggested=count[ProjectState.SUGGESTED],
        open=count[ProjectState.OPEN],
        declined=count[ProjectState.DECLINED],
        adhesion_rate=round(adherents / members, 4) if members >= K_ANONYMITY else None,
        benefits_recorded=sum(p.benefits_recorded for p in items if p.state is ProjectState.COMPLETED),
        satisfaction=round(sum(stars) / len(stars), 2) if len(stars) >= K_ANONYMITY else None,
        ratings=len(stars),
    )
