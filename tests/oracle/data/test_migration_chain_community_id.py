"""Migration 0003 renames the Registry's id of listings and leaf salts to `chain_community_id`, keeping the rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from lec.db.migrate import upgrade

BEFORE, AFTER = "0002_market_api_tables", "0003_chain_community_id"


def _columns(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as connection:
        return {c["name"] for c in sa.inspect(connection).get_columns(table)}


def _indexes(engine: sa.Engine, table: str) -> set[str]:
    with engine.connect() as connection:
        return {i["name"] for i in sa.inspect(connection).get_indexes(table)}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rename_keeps_rows_both_ways(backend: str, tmp_path, request: pytest.FixtureRequest) -> None:
    from alembic import command

    from lec.db.migrate import alembic_config

    make_db: Callable[[], str] | None = request.getfixturevalue("make_postgres_db") if backend == "postgresql" else None
    engine = sa.create_engine(make_db() if make_db else f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO market_listing (community_id, category, side, title, description, price_centihours, "
            "availability, owner, description_hash, active, created_at) VALUES (7, 0, 0, 't', 'd', 100, '', "
            "'0x01', '0x02', true, CURRENT_TIMESTAMP)"
        )
        connection.exec_driver_sql(
            "INSERT INTO leaf_salts (community_id, period_id, device_id, salt, created_at) "
            "VALUES (7, 20261125, 'POD1', '0x03', CURRENT_TIMESTAMP)"
        )

    upgrade(engine, AFTER)
    assert "chain_community_id" in _columns(engine, "market_listing") - {"community_id"}
    assert "ix_market_listing_chain_community_id" in _indexes(engine, "market_listing")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT chain_community_id FROM market_listing").scalar() == 7
        assert connection.exec_driver_sql("SELECT chain_community_id, device_id FROM leaf_salts").one() == (7, "POD1")

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE)
    assert "community_id" in _columns(engine, "leaf_salts") - {"chain_community_id"}
    assert "ix_market_listing_community_id" in _indexes(engine, "market_listing")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT community_id FROM market_listing").scalar() == 7
    engine.dispose()
