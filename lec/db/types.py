"""Column types shared by the schema: UTC timestamps and enums stored as their string values."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

# Deterministic constraint names for every table of the platform (set here, the module every table module
# imports, so that no table is defined before the convention). They make Alembic migrations name the same
# thing the same way on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always UTC and always timezone-aware in Python.

    SQLite has no time zones, PostgreSQL has `timestamptz`: storing naive UTC on SQLite and aware values on
    PostgreSQL, and returning aware UTC from both, lets every caller compare timestamps without caring which
    database is behind the engine. A naive value handed in is refused, since its zone would be a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"Timestamp {value.isoformat()} has no time zone; pass an aware datetime (UTC).")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """Store an enum by its value in a VARCHAR with a CHECK constraint, not a native PostgreSQL ENUM.

    Values (not member names) so that SQL readers see `citizen`, `production`…; non-native so that adding a
    member is a plain migration on both databases.
    """
    return sa.Enum(
        enum_cls,
        name=None,  # so the naming convention names the CHECK per table and column
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class IntEnumType(sa.types.TypeDecorator[enum.IntEnum]):
    """An integer enum stored as its integer, as the report codes it (e.g. accountconsumption 0/1/2)."""

    impl = sa.Integer
    cache_ok = True

    def __init__(self, enum_cls: type[enum.IntEnum]) -> None:
        super().__init__()
        self._enum_cls = enum_cls

    def process_bind_param(self, value: int | None, dialect: Dialect) -> int | None:
        return None if value is None else int(self._enum_cls(value))

    def process_result_value(self, value: int | None, dialect: Dialect) -> enum.IntEnum | None:
        return None if value is None else self._enum_cls(value)
