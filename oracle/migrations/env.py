"""Alembic environment: the URL from oracle.db.session, the metadata from SQLModel's models."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from oracle.db import models  # noqa: F401  (registers the tables)
from oracle.db.session import database_url, get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_offline() -> None:
    context.configure(
        url=database_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        with get_engine(config.get_main_option("sqlalchemy.url")).connect() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection: object) -> None:
    # Batch mode lets ALTERs work on SQLite, which cannot alter most constraints in place.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
