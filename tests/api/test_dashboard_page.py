"""The member dashboard's fast path returns exactly what the documented `DailyPage` model would have returned."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
import sqlalchemy as sa
from api_helpers import bearer, unverified_claims
from fastapi import HTTPException
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dapp.api.deps import active_holder_id
from dapp.api.main import create_app
from dapp.api.schemas.dashboards import DailyPage, MemberDailyKpiPublic
from dapp.api.security import Principal, principal_from_claims
from dapp.api.services.dashboards import COLUMNS, TOTALS, first_pages, my_page, page_body, reader_engine
from lec.db.models import Community, MemberDailyKpi, User, UserCommunity
from lec.db.session import get_engine, init_db

_wh = st.integers(min_value=0, max_value=2**40)
_row = st.tuples(st.integers(min_value=20200101, max_value=20301231), *[_wh] * (len(COLUMNS) - 1))


def _model_page(rows: list[tuple[int, ...]], limit: int, offset: int) -> DailyPage:
    """The page as the route built it before the fast path: pydantic objects, totals over the rows."""
    items = [MemberDailyKpiPublic(**dict(zip(COLUMNS, r, strict=True))) for r in rows]
    sums = {c: sum(getattr(i, c) for i in items) for c in TOTALS}
    load, prod, sc = sums["load_wh"], sums["production_wh"], sums["self_consumption_wh"]
    return DailyPage(
        items=items,
        total=len(rows),
        limit=limit,
        offset=offset,
        totals=sums,
        self_consumption_pct=round(100 * sc / prod, 2) if prod else None,
        self_sufficiency_pct=round(100 * sc / load, 2) if load else None,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    """The hot path's Core statements and autocommit reads, on both databases the API supports."""
    if request.param == "sqlite":
        return engine
    return init_db(get_engine(request.getfixturevalue("make_postgres_db")()))


@given(rows=st.lists(_row, max_size=40), limit=st.integers(1, 400), offset=st.integers(0, 10))
def test_page_body_is_byte_for_byte_the_models_json(rows, limit, offset):
    sums = {c: sum(r[COLUMNS.index(c)] for r in rows) for c in TOTALS}
    expected = _model_page(rows, limit, offset).model_dump_json().encode()
    assert page_body(rows, len(rows), sums, limit, offset) == expected


def test_the_endpoint_pages_a_members_year_with_totals_over_the_whole_range(keycloak, settings, db):
    subject = keycloak.add_user(f"dashboard-member-{db.dialect.name}", roles=["token-holder"])
    with Session(db) as s:
        community = Community(name="Dashboard LEC", chain_community_id=78)
        user, other = (
            User(external_id=subject, name="Dana", surname="Board", email="dana@example.org"),
            User(external_id="someone-else", name="Otto", surname="Ther", email="otto@example.org"),
        )
        s.add_all([community, user, other])
        s.flush()
        for u, wallet in ((user, "0x" + "8" * 40), (other, "0x" + "9" * 40)):
            s.add(UserCommunity(community_id=community.id, user_id=u.id, wallet=wallet, active=True))
        odd = [d % 2 for d in range(20)]
        mine = [(20260101 + d, 1000 + d, 500 * o, 300 * o, 200 * o, 700 + d, 90 + d, 96) for d, o in enumerate(odd)]
        for r in mine:
            s.add(MemberDailyKpi(community_id=community.id, user_id=user.id, **dict(zip(COLUMNS, r, strict=True))))
            s.add(MemberDailyKpi(community_id=community.id, user_id=other.id, day=r[0], load_wh=10**6, samples=96))
        s.commit()
        cid = community.id
    url = f"/api/v1/communities/{cid}/me/daily?from=2026-01-03&to=2026-01-31"
    token = bearer(keycloak.access_token(f"dashboard-member-{db.dialect.name}"))
    in_range = [r for r in mine if 20260103 <= r[0] <= 20260131]
    with TestClient(create_app(settings, db)) as client:
        whole = client.get(url, headers=token)
        assert whole.status_code == 200, whole.text
        assert whole.headers["content-type"] == "application/json"
        assert whole.json() == _model_page(in_range, 366, 0).model_dump(mode="json")

        second = client.get(url + "&limit=5&offset=5", headers=token).json()
        assert [i["day"] for i in second["items"]] == [r[0] for r in in_range[5:10]]
        # A partial page still reports the totals and the count of the whole range (summed by the database).
        assert (second["total"], second["totals"]) == (len(in_range), whole.json()["totals"])
        assert (second["limit"], second["offset"]) == (5, 5)
        assert second["self_sufficiency_pct"] == whole.json()["self_sufficiency_pct"]


def test_only_an_active_member_with_the_holder_role_reads_their_dashboard(keycloak, settings, db):
    subject = keycloak.add_user(f"leaving-member-{db.dialect.name}", roles=["token-holder"])
    keycloak.add_user(f"leaving-auditor-{db.dialect.name}", roles=["auditor"])
    with Session(db) as s:
        community = Community(name="Leaving LEC", chain_community_id=79)
        user = User(external_id=subject, name="Lea", surname="Ving", email="lea@example.org")
        s.add_all([community, user])
        s.flush()
        s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet="0x" + "6" * 40, active=True))
        s.add(MemberDailyKpi(community_id=community.id, user_id=user.id, day=20260105, load_wh=5, samples=96))
        s.commit()
        cid, uid = community.id, user.id
    url = f"/api/v1/communities/{cid}/me/daily?from=2026-01-01&to=2026-01-31"
    empty = url.replace("2026-01-", "2026-02-").replace("02-31", "02-28")
    token = keycloak.access_token(f"leaving-member-{db.dialect.name}")
    with TestClient(create_app(settings, db)) as client:
        # A day in the range (answered by the page query with the membership folded in) and none (the checks).
        assert client.get(url, headers=bearer(token)).json()["total"] == 1
        assert client.get(empty, headers=bearer(token)).json()["total"] == 0
        with Session(db) as s:
            assert active_holder_id(s, principal_from_claims(unverified_claims(token)), cid) == uid
            s.get(UserCommunity, (cid, uid)).active = False
            s.commit()
            assert active_holder_id(s, principal_from_claims(unverified_claims(token)), cid) is None
        assert client.get(url, headers=bearer(token)).status_code == 403  # its days are still there
        assert client.get(empty, headers=bearer(token)).status_code == 403
        assert (
            client.get(url, headers=bearer(keycloak.access_token(f"leaving-auditor-{db.dialect.name}"))).status_code
            == 403
        )
        assert client.get(url.replace(f"/{cid}/", "/999999/"), headers=bearer(token)).status_code == 404


def test_dashboard_readers_default_to_the_backend_and_follow_the_setting(settings, engine):
    import sqlalchemy as sa

    from dapp.api.services.dashboards import reader_count

    server = sa.create_engine("postgresql+psycopg://lec@127.0.0.1:1/lec")  # never connected: only the dialect
    assert (reader_count(settings, engine), reader_count(settings, server)) == (2, 4)
    assert reader_count(settings.model_copy(update={"dashboard_readers": 7}), server) == 7


def test_the_dashboard_answers_without_the_lifespan_having_run(keycloak, settings, engine):
    keycloak.add_user("no-lifespan", roles=["token-holder"])
    client = TestClient(create_app(settings, engine))  # not entered: the app's startup never runs
    reply = client.get(
        "/api/v1/communities/1/me/daily?from=2026-01-01&to=2026-01-02",
        headers=bearer(keycloak.access_token("no-lifespan")),
    )
    assert reply.status_code in (403, 404)  # decided by the access check, not a 500 for a missing limiter


def test_postgresql_writes_the_same_page_bytes_as_python(make_postgres_db):
    """PostgreSQL builds the caller's first page as JSON text (`_MY_PAGE_JSON`): byte for byte `page_body`'s, for
    any days and values (large integers, zeros), and only for the active member the token names."""
    engine = init_db(get_engine(make_postgres_db()))
    reader = reader_engine(engine)
    with Session(engine) as s:
        community = Community(name="Bytes LEC", chain_community_id=80)
        user = User(external_id="bytes-member", name="By", surname="Tes", email="bytes@example.org")
        s.add_all([community, user])
        s.flush()
        s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet="0x" + "5" * 40, active=True))
        s.commit()
        cid, uid = community.id, user.id
    holder = Principal(subject="bytes-member", username="bytes", roles=frozenset({"token-holder"}), client_id="dapp")
    stranger = Principal(subject="someone-else", username="x", roles=frozenset({"token-holder"}), client_id="dapp")
    pages = first_pages(engine, 2)
    assert pages is not None
    days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))

    column = st.integers(min_value=0, max_value=2**31 - 1)  # the read model's INTEGER columns

    @hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(chosen=st.dictionaries(days, st.tuples(*[column] * (len(COLUMNS) - 1)), min_size=1, max_size=30))
    def check(chosen):
        rows = sorted((int(d.strftime("%Y%m%d")), *values) for d, values in chosen.items())
        with Session(engine) as s:
            s.exec(sa.delete(MemberDailyKpi))
            for r in rows:
                s.add(MemberDailyKpi(community_id=cid, user_id=uid, **dict(zip(COLUMNS, r, strict=True))))
            s.commit()
        start, end = date(2026, 1, 1), date(2026, 12, 31)
        sums = {c: sum(r[COLUMNS.index(c)] for r in rows) for c in TOTALS}
        expected = page_body(rows, len(rows), sums, 366, 0)
        assert my_page(reader, holder, cid, start, end, 366, 0) == expected
        # The event-loop reader (each `asyncio.run` is a new loop, as a test client without lifespan gives).
        assert asyncio.run(pages.read(holder, cid, start, end, 366, 0)) == expected
        assert asyncio.run(pages.read(stranger, cid, start, end, 366, 0)) is None  # `my_page` answers: 403
        # A page cut by the limit takes the other path (totals over the whole range): still the model's bytes.
        if len(rows) > 1:
            cut = rows[: len(rows) - 1]
            assert my_page(reader, holder, cid, start, end, len(cut), 0) == page_body(cut, len(rows), sums, len(cut), 0)
            assert asyncio.run(pages.read(holder, cid, start, end, len(cut), 0)) is None
        with pytest.raises(HTTPException) as refused:
            my_page(reader, stranger, cid, start, end, 366, 0)
        assert refused.value.status_code == 403

    check()
    reader.dispose()
    pages.close()


def test_the_event_loop_reader_replaces_a_connection_the_server_dropped(make_postgres_db):
    engine = init_db(get_engine(make_postgres_db()))
    with Session(engine) as s:
        community = Community(name="Dropped LEC", chain_community_id=81)
        user = User(external_id="dropped-member", name="Dro", surname="Pped", email="dropped@example.org")
        s.add_all([community, user])
        s.flush()
        s.add(UserCommunity(community_id=community.id, user_id=user.id, wallet="0x" + "4" * 40, active=True))
        s.add(MemberDailyKpi(community_id=community.id, user_id=user.id, day=20260105, load_wh=5, samples=96))
        s.commit()
        cid = community.id
    holder = Principal(subject="dropped-member", username="d", roles=frozenset({"token-holder"}), client_id="dapp")
    pages = first_pages(engine, 1)
    assert pages is not None and first_pages(sa.create_engine("sqlite://"), 1) is None
    start, end = date(2026, 1, 1), date(2026, 1, 31)

    async def twice() -> tuple[bytes | None, bytes | None]:
        before = await pages.read(holder, cid, start, end, 366, 0)
        with engine.connect() as admin:  # the server ends every other session (a restart, an idle timeout)
            admin.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        return before, await pages.read(holder, cid, start, end, 366, 0)

    before, after = asyncio.run(twice())
    assert before is not None and json.loads(before)["total"] == 1
    assert after == before
    pages.close()
