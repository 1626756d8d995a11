"""Alembic environment: the URL from lec.db.session, the metadata from SQLModel's models."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context

from lec.db.models import metadata
from lec.db.session import database_url, get_engine
from lec.db.types import IntEnumType, UtcDateTime

config = context.config
target_metadata = metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our column types as the calls that build them, so a migration rebuilds them exactly."""
    if type_ != "type":
        return False
    if isinstance(obj, UtcDateTime):
        return "lec.db.types.UtcDateTime()"
    if isinstance(obj, IntEnumType):
        return f"lec.db.types.IntEnumType(lec.db.enums.{obj._enum_cls.__name__})"
    if isinstance(obj, sa.Enum) and obj.enum_class is not None and obj.enum_class.__module__ == "lec.db.enums":
        return f"lec.db.types.enum_type(lec.db.enums.{obj.enum_class.__name__})"
    return False


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate never drops a table the metadata does not know: the API's tables (dapp/api/models.py) are
    migrated here too, but the oracle does not import the dApp. To autogenerate a change to them, import
    `lec.db.models` before calling Alembic (as `python -c "import lec.db.models; …"` does)."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_offline() -> None:
    context.configure(
        url=database_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
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
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
