"""The dashboards' reads: a member's days as one JSON body (the API's hottest path), and the day ranges they
may ask for."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

import psycopg
import sqlalchemy as sa
from fastapi import HTTPException
from pydantic_core import to_json
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dapp.api.deps import ACTIVE_MEMBER_ID, active_holder_id, authorise, load_access
from dapp.api.errors import invalid
from dapp.api.roles import TOKEN_HOLDER
from dapp.api.schemas.dashboards import MemberDailyKpiPublic
from dapp.api.security import Principal
from lec.calendar import period_id
from lec.db.models import MemberDailyKpi
from lec.settings import Settings

COLUMNS = tuple(MemberDailyKpiPublic.model_fields)
TOTALS = ("load_wh", "production_wh", "self_consumption_wh", "injection_wh", "withdrawal_wh")
_ITEM = ("{" + ",".join(f'"{c}":%d' for c in COLUMNS) + "}").encode()
_TOTAL_INDEX = tuple((c, COLUMNS.index(c)) for c in TOTALS)
_KPIS = MemberDailyKpi.__table__.c  # type: ignore[attr-defined]
_WHERE = (
    _KPIS.community_id == sa.bindparam("community_id"),
    _KPIS.user_id == sa.bindparam("user_id"),
    _KPIS.day >= sa.bindparam("first"),
    _KPIS.day <= sa.bindparam("last"),
)
# Built once: a Core statement with bound parameters is compiled once per engine and then found in
# SQLAlchemy's cache without rebuilding the expression per request.
_PAGE = (
    sa.select(*[_KPIS[c] for c in COLUMNS])
    .where(*_WHERE)
    .order_by(_KPIS.day)
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)
# The caller's own page with the membership check folded in: rows come back only for the active member the token's
# subject is in that community (one round trip instead of two; docs/identity.md, performance).
_MY_PAGE = (
    sa.select(*[_KPIS[c] for c in COLUMNS])
    .where(
        _KPIS.community_id == sa.bindparam("community_id"),
        _KPIS.user_id == ACTIVE_MEMBER_ID,
        _KPIS.day >= sa.bindparam("first"),
        _KPIS.day <= sa.bindparam("last"),
    )
    .order_by(_KPIS.day)
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)
_SUMS = sa.select(sa.func.count(), *[sa.func.sum(_KPIS[c]) for c in TOTALS]).where(*_WHERE)


def _item_text(page: sa.Subquery) -> sa.ColumnElement[str]:
    """One row of `page` as the JSON text `_ITEM % row` writes, built by PostgreSQL (an integer's text is its
    decimal digits, as `%d`'s)."""
    parts: list[sa.ColumnElement[object]] = []
    for n, column in enumerate(COLUMNS):
        parts += [sa.literal_column("'" + ("{" if n == 0 else ",") + f'"{column}":' + "'"), page.c[column]]
    return sa.func.concat(*parts, sa.literal_column("'}'"))


_MY_PAGE_ROWS = _MY_PAGE.subquery("page")
# PostgreSQL only: the caller's first page (membership folded in, as `_MY_PAGE`) as one row: the count and sums of
# its days and their items already written as JSON text, in day order. Python then handles one row instead of 365
# rows of eight integers (fetching, converting and formatting them was about a third of a request's CPU).
_MY_PAGE_JSON = sa.select(
    sa.func.count(),
    *[sa.func.sum(_MY_PAGE_ROWS.c[c]) for c in TOTALS],
    sa.func.string_agg(_item_text(_MY_PAGE_ROWS), aggregate_order_by(sa.literal_column("','"), _MY_PAGE_ROWS.c.day)),
)
# The same statement as psycopg's own SQL (named `%(…)s` parameters), for `FirstPages` on the event loop.
_MY_PAGE_SQL = str(_MY_PAGE_JSON.compile(dialect=PGDialect_psycopg()))


def day_bounds(start: date, end: date) -> tuple[int, int]:
    """The first and last period ids of a range of local days, at most two years long."""
    if end < start:
        raise invalid("'to' is before 'from'; swap them.")
    if (end - start).days > 731:
        raise invalid("Ask for at most two years at a time.")
    return period_id(start), period_id(end)


def page_body(rows: Sequence[Sequence[int]], total: int, sums: dict[str, int], limit: int, offset: int) -> bytes:
    """Pure: the `DailyPage` JSON of one page of (day, load_wh, …, samples) tuples, serialised in one call.

    The member dashboard is the API's hottest path; building 365 pydantic objects and letting FastAPI validate
    and re-serialise them took most of each request's CPU. The keys and values are those of `DailyPage`
    (tests/api/test_dashboard_page.py checks the body against the model).
    """
    # Every item is eight integers (NOT NULL columns): one bytes format per row is about 3× faster than building
    # a dict per row for the JSON encoder, and writes the same bytes.
    return page_json(b",".join([_ITEM % tuple(r) for r in rows]), total, sums, limit, offset)


def page_json(items: bytes, total: int, sums: dict[str, int], limit: int, offset: int) -> bytes:
    """Pure: the `DailyPage` JSON around `items`, the page's items already written as JSON objects joined by
    commas (by :func:`page_body`, or by PostgreSQL in `_MY_PAGE_JSON`)."""
    load, prod, sc = sums["load_wh"], sums["production_wh"], sums["self_consumption_wh"]
    rest = to_json(
        {
            "total": total,
            "limit": limit,
            "offset": offset,
            "totals": sums,
            "self_consumption_pct": round(100 * sc / prod, 2) if prod else None,
            "self_sufficiency_pct": round(100 * sc / load, 2) if load else None,
        }
    )
    return b'{"items":[' + items + b"]," + rest[1:]


def member_page(
    session: Session, community_id: int, user_id: int, first: int, last: int, limit: int, offset: int
) -> bytes:
    """One page of a member's days, as the `DailyPage` JSON body."""
    # Plain Core tuples (no ORM objects); totals summed in Python when the page holds the whole range (the usual
    # case: a year fits one page), otherwise in SQL.
    params = {"community_id": community_id, "user_id": user_id, "first": first, "last": last}
    connection = session.connection()
    rows = connection.execute(_PAGE, {**params, "limit": limit, "offset": offset}).all()
    if offset == 0 and len(rows) < limit:
        total = len(rows)
        sums = {c: sum(r[i] for r in rows) for c, i in _TOTAL_INDEX}
    else:
        result = connection.execute(_SUMS, params).one()
        total, sums = int(result[0]), {c: int(v or 0) for c, v in zip(TOTALS, result[1:], strict=True)}
    return page_body(rows, total, sums, limit, offset)


def reader_engine(engine: Engine) -> Engine:
    """The engine the member dashboard reads with: for PostgreSQL, the same database without the pool's pre-ping
    (a round trip per request on the hottest route); a connection the server dropped is then found by the read
    itself, and :func:`my_page` retries once on a fresh one. Other databases: ``engine`` itself.

    Its connections are in autocommit mode (the reads need no transaction: see :func:`_my_page`); for PostgreSQL
    that is the engine's own level, so no request sets and resets it on its connection.
    """
    if engine.dialect.name != "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return sa.create_engine(engine.url, pool_pre_ping=False, pool_size=8, max_overflow=8, isolation_level="AUTOCOMMIT")


def my_page(
    engine: Engine, principal: Principal, community_id: int, start: date, end: date, limit: int, offset: int
) -> bytes:
    """The caller's own days in a community where they are a token holder, membership check included."""
    try:
        return _my_page(engine, principal, community_id, start, end, limit, offset)
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        return _my_page(engine, principal, community_id, start, end, limit, offset)  # the pool is fresh now


def _my_page(
    engine: Engine, principal: Principal, community_id: int, start: date, end: date, limit: int, offset: int
) -> bytes:
    # Only reads: in autocommit mode the driver sends no BEGIN and no ROLLBACK, two of a request's round trips to
    # PostgreSQL. The two reads may then see different commits, as two requests a moment apart would.
    # A range the API refuses is refused after the access checks: a stranger learns nothing from a 422 (and
    # the answer is the same as on the other routes: 403/404 first).
    try:
        bounds: tuple[int, int] | None = day_bounds(start, end)
    except HTTPException:
        bounds = None
    with engine.connect() as connection:
        if bounds is not None and principal.has_role(TOKEN_HOLDER) and offset == 0:
            # The usual request (a token holder's first page) in one statement: any row proves the active
            # membership. No row decides nothing (not a member, or no days yet): the checks below answer it.
            first, last = bounds
            params = {"subject": principal.subject, "community_id": community_id, "first": first, "last": last}
            params |= {"limit": limit, "offset": 0}
            if connection.dialect.name == "postgresql":
                count, *totals, items = connection.execute(_MY_PAGE_JSON, params).one()
                if 0 < count < limit:
                    sums = {c: int(v) for c, v in zip(TOTALS, totals, strict=True)}
                    return page_json(items.encode(), count, sums, limit, 0)
            else:
                rows = connection.execute(_MY_PAGE, params).all()
                if rows and len(rows) < limit:
                    sums = {c: sum(r[i] for r in rows) for c, i in _TOTAL_INDEX}
                    return page_body(rows, len(rows), sums, limit, 0)
        with Session(bind=connection, expire_on_commit=False) as session:
            user_id = active_holder_id(session, principal, community_id)
            if user_id is None:
                access = authorise(load_access(session, principal, community_id), (TOKEN_HOLDER,))
                assert access.user is not None and access.user.id is not None
                user_id = access.user.id
            first, last = bounds or day_bounds(start, end)  # a refused range raises its sentence here
            return member_page(session, community_id, user_id, first, last, limit, offset)


class FirstPages:
    """The caller's first page on PostgreSQL, read on the event loop through psycopg's asynchronous connections.

    The member dashboard's usual request is one statement (`_MY_PAGE_JSON`: membership folded in, items written by
    the database). Handing it to a worker thread and through SQLAlchemy's engine cost about a quarter of what is
    left of a request's CPU; here it is awaited directly on at most `size` connections of its own, in autocommit
    mode, made on first use. A connection the server dropped is found by the read and replaced once, as the
    threaded path's retry does.

    :meth:`read` answers only when the statement decides (at least one day, page not cut by the limit); `None`
    sends the request to :func:`my_page`, which knows every other case (403/404 and their sentences, later pages).
    """

    def __init__(self, url: sa.URL, size: int) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = size
        self._idle: list[psycopg.AsyncConnection] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def read(
        self, principal: Principal, community_id: int, start: date, end: date, limit: int, offset: int
    ) -> bytes | None:
        try:
            first, last = day_bounds(start, end)
        except HTTPException:
            return None  # refused after the access checks, by `my_page`
        if offset != 0 or not principal.has_role(TOKEN_HOLDER):
            return None
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            # First use, or a new event loop (a test client run without its lifespan): the connections and the
            # semaphore of another loop are not used on this one.
            self.close()
            self._loop, self._slots = loop, asyncio.Semaphore(self._size)
        params = {
            "subject": principal.subject,
            "community_id": community_id,
            "first": first,
            "last": last,
            "limit": limit,
            "offset": 0,
        }
        async with self._slots:
            row = await self._execute(params)
        count, *totals, items = row
        if not 0 < count < limit:
            return None
        return page_json(items.encode(), count, {c: int(v) for c, v in zip(TOTALS, totals, strict=True)}, limit, 0)

    async def _execute(self, params: dict[str, object]) -> tuple:  # type: ignore[type-arg]
        for attempt in (1, 2):
            if self._idle:
                connection = self._idle.pop()
            else:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            try:
                cursor = await connection.execute(_MY_PAGE_SQL, params)  # type: ignore[arg-type]
                row = await cursor.fetchone()
            except psycopg.OperationalError:
                dropped = connection.broken  # read before closing: a connection closed here is not "broken"
                await connection.close()
                if attempt == 2 or not dropped:
                    raise
                continue  # the server dropped it: once more on a fresh connection
            except BaseException:
                await connection.close()
                raise
            self._idle.append(connection)
            assert row is not None  # an aggregate always answers one row
            return row
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the idle connections (their socket only: no await needed)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.pgconn.finish()  # what `AsyncConnection.close` does, without a pool


def first_pages(engine: Engine, size: int) -> FirstPages | None:
    """The event-loop reader of the member dashboard for a PostgreSQL engine; `None` for other databases."""
    return FirstPages(engine.url, size) if engine.dialect.name == "postgresql" else None


def reader_count(settings: Settings, engine: Engine) -> int:
    """How many member dashboard pages are read at once (measured best: docs/identity.md, performance)."""
    if settings.dashboard_readers is not None:
        return settings.dashboard_readers
    return 2 if engine.dialect.name == "sqlite" else 4
