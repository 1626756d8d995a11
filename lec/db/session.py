"""Engines and sessions: `DATABASE_URL`, or SQLite at `$LEC_DATA_DIR/lec.db` by default."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lec.settings import data_dir, get_settings

_engines: dict[str, Engine] = {}


def database_url(url: str | None = None) -> str:
    """The URL to use: `url`, else `DATABASE_URL`, else the SQLite file under `LEC_DATA_DIR`.

    A bare `postgresql://` URL is pointed at psycopg 3 (the driver installed), since SQLAlchemy would
    otherwise look for psycopg2.
    """
    url = url or get_settings().database_url or f"sqlite:///{(data_dir() / 'lec.db').resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the API read while the ingester writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """One engine per database URL for the whole process (engines own connection pools)."""
    resolved = database_url(url)
    engine = _engines.get(resolved)
    if engine is None:
        if resolved.startswith("sqlite"):
            engine = sa.create_engine(resolved, connect_args={"check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(resolved, pool_pre_ping=True)
        _engines[resolved] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests that stop a database server call this first)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def init_db(engine: Engine | None = None) -> Engine:
    """Create every table known to SQLModel's metadata that is missing, and the report's fixed rows.

    Every table of :mod:`lec.db.models` is included, whoever owns it.
    Migrations (`lec oracle db-upgrade`) are the way to evolve an existing production database.
    """
    from lec.db.models import metadata
    from lec.db.seed import ensure_reference_rows

    engine = engine or get_engine()
    metadata.create_all(engine)
    with Session(engine) as session:
        ensure_reference_rows(session)
        session.commit()
    return engine


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
