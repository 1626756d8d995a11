"""The admin's voice dashboard without Keycloak (the service over a SQLite file): sentiment per target per month
or week, hidden below k texts, and the most frequent themes with Italian and English stop words removed, shown
only when k texts use them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from dapp.api.deps import CommunityAccess
from dapp.api.security import Principal
from dapp.api.services import lab_voice
from lec.db.models import Community, LabFeedback, LabProject, User
from lec.db.session import get_engine, init_db
from lec.lab import themes


@pytest.fixture
def db(tmp_path) -> Iterator[tuple[Session, CommunityAccess, int, int]]:
    engine = init_db(get_engine(f"sqlite:///{tmp_path / 'voice.db'}"))
    with Session(engine) as s:
        lab, other = Community(name="Dash LEC"), Community(name="Other LEC")
        admin = User(external_id="sub-admin", name="Ada", surname="Min", email="a@example.org")
        s.add_all([lab, other, admin])
        s.flush()
        project = LabProject(community_id=lab.id, title="Orto", description="Un orto", kind="sharing", state="active")
        s.add(project)
        s.flush()
        principal = Principal("sub-admin", "ada", frozenset({"community-admin"}), "lec-dapp")
        access = CommunityAccess(lab, principal, admin, None, frozenset({"community-admin"}))
        yield s, access, project.id, other.id  # type: ignore[misc]


def _add(s: Session, community: int, when: datetime, text: str, rating: int, project: int | None = None) -> None:
    from lec.lab.sentiment import analyse

    scored = analyse(text)
    s.add(
        LabFeedback(
            community_id=community,
            project_id=project,
            text=text,
            rating=rating,
            sentiment=scored.score,
            label=scored.label,
            language=scored.language,
            created_at=when,
        )
    )


def test_the_trend_groups_by_month_and_target_and_hides_small_cells(db):
    s, access, pid, other = db
    oct_, nov = datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)
    cid = access.community.id
    for text in ("La bolletta è ottima", "Bolletta chiara, grazie", "Ottimo servizio sulla bolletta"):
        _add(s, cid, oct_, text, 5)
    for text in ("La bolletta è sbagliata", "Pessima bolletta", "Bolletta incomprensibile e cara, un disastro"):
        _add(s, cid, nov, text, 1)
    _add(s, cid, nov, "L'orto è bellissimo", 5, pid)  # one text: its cell is hidden
    _add(s, other, nov, "Other community's bolletta, terrible", 1)  # never counted here
    s.commit()
    summary = lab_voice.summary(s, access)
    cells = {(p.period, p.project_id): p for p in summary.trend}
    assert set(cells) == {("2026-10", None), ("2026-11", None), ("2026-11", pid)}
    october, november = cells[("2026-10", None)], cells[("2026-11", None)]
    assert october.count == 3 and october.average_rating == 5 and october.average_sentiment > 0
    assert november.count == 3 and november.average_rating == 1 and november.average_sentiment < 0
    orto = cells[("2026-11", pid)]
    assert orto.count == 1 and orto.average_rating is None and orto.average_sentiment is None
    assert orto.title == "Orto"
    assert summary.themes[0] == ("bolletta", 6)  # the other community's text is not counted
    weekly = lab_voice.summary(s, access, by="week")
    assert {p.period for p in weekly.trend} == {"2026-W41", "2026-W47"}


def test_a_theme_needs_k_texts(db):
    s, access, _, _ = db
    when = datetime(2026, 11, 2, tzinfo=UTC)
    for text in ("Il contatore è guasto", "Contatore fermo", "The meter and the contatore", "Via Garibaldi 12 scala B"):
        _add(s, access.community.id, when, text, 3)
    s.commit()
    words = dict(lab_voice.summary(s, access).themes)
    assert words == {"contatore": 3}  # "garibaldi", "scala", "meter" appear in fewer than k texts


def test_keywords_drop_stop_words_and_tone_words_in_both_languages():
    assert themes.keywords("La bolletta della comunità è molto chiara, grazie") == {"bolletta", "comunità"}
    assert themes.keywords("The panels on the roof are not working, terrible") == {"panels", "roof"}
    assert themes.keywords("") == set()
    assert "non" not in themes.keywords("non è il contatore") and "contatore" in themes.keywords("non è il contatore")


def test_top_themes_count_a_word_once_per_text_and_rank_stably():
    ranked = themes.top_themes(["orto orto orto", "orto bici", "bici", "assemblea"], limit=2)
    assert ranked == [("bici", 2), ("orto", 2)]
    assert themes.top_themes(["orto"], min_texts=2) == []


def test_periods_by_month_and_iso_week():
    when = datetime(2027, 1, 1, tzinfo=UTC)  # ISO week 53 of 2026
    assert themes.period_of(when, "month") == "2027-01"
    assert themes.period_of(when, "week") == "2026-W53"
