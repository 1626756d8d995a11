"""Run the Alembic migrations shipped in lec/db/migrations against the configured database."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from lec.db.seed import ensure_reference_rows
from lec.db.session import database_url, get_engine

ALEMBIC_INI = Path(__file__).resolve().parent / "migrations" / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return config


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Bring the schema to `revision`, then insert the reference rows (measurement tables, roles)."""
    from sqlmodel import Session

    engine = engine or get_engine()
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    with Session(engine) as session:
        ensure_reference_rows(session)
        session.commit()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


@click.command("db-upgrade")
@click.option("--database-url", default=None, help="Database URL (default: DATABASE_URL, else SQLite in LEC_DATA_DIR).")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def db_upgrade(database_url: str | None, revision: str) -> None:
    """Create or migrate the oracle database schema to the latest version."""
    engine = get_engine(database_url)
    upgrade(engine, revision)
    click.echo(f"Database {engine.url.render_as_string(hide_password=True)} is at revision {current_revision(engine)}.")
