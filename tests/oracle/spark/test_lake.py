"""The Delta Lake: export is incremental and idempotent; the right to be forgotten reaches the current tables
and, after VACUUM, the files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from spark_world import NORMAL_DAY, wallet

from lec.calendar import period_start
from lec.db.enums import FlowQuantity
from lec.db.models import CounterReading, Device, Flow, UserCommunity
from oracle.sources import open_session

pytestmark = pytest.mark.services


def _version(spark, path: str) -> int:
    from delta.tables import DeltaTable

    return int(DeltaTable.forPath(spark, path).history(1).collect()[0]["version"])


def _rows_in_files(table: str, column: str, values: set[int]) -> int:
    """Rows whose ``column`` is in ``values`` in every Parquet file under the table's folder, current or not."""
    found = 0
    for path in Path(table).rglob("*.parquet"):
        found += sum(v in values for v in pq.ParquetFile(path).read(columns=[column]).column(column).to_pylist())
    return found


def _content(spark, lake_dir: str) -> list:
    from oracle.spark import lake

    return sorted(lake.read(spark, lake.READINGS, lake_dir).collect())


def test_export_is_incremental_idempotent_and_drops_what_the_database_erased(spark, db_copy, lake_copy):
    from oracle.spark import lake

    readings = lake.table_path(lake.READINGS, lake_copy)
    content, version = _content(spark, lake_copy), _version(spark, readings)
    with open_session() as session:
        again = lake.export(spark, session, [1, 2], lake=lake_copy)
    stored_days = [len({r["date"] for r in content if r["community"] == c}) for c in (1, 2)]
    assert [r.days for r in again] == [[], []] and [r.skipped for r in again] == stored_days
    assert _version(spark, readings) == version  # nothing new, not even an empty commit
    assert _content(spark, lake_copy) == content

    new_day = NORMAL_DAY + timedelta(days=3)
    with open_session() as session:
        device = session.exec(sa.select(Device.id, Device.community_id).where(Device.pod == "IT002E00000011")).one()
        flow = session.exec(sa.select(Flow.id).where(Flow.quantity == FlowQuantity.LOAD)).scalar_one()
        stamps = [datetime.fromtimestamp(period_start(new_day) + 900 * k, UTC) for k in range(96)]
        session.execute(
            sa.insert(CounterReading),
            [
                {"device_id": device.id, "flow_id": flow, "community_id": device.community_id, "timestamp": t}
                | {"energy_wh": 100.0, "tsi": 0}
                for t in stamps
            ],
        )
        session.commit()
        added = lake.export(spark, session, [1, 2], lake=lake_copy)
    assert [r.days for r in added] == [[], [new_day]] and added[1].readings == 96
    assert len(_content(spark, lake_copy)) == len(content) + 96

    with open_session() as session:  # a day written again replaces its partition: never a reading twice
        lake.export(spark, session, [2], start=NORMAL_DAY, replace=True, lake=lake_copy)
    assert len(_content(spark, lake_copy)) == len(content) + 96

    # A member deleted through the API (its devices and readings gone from the database) leaves the lake at
    # the next export, without anyone naming it.
    with open_session() as session:
        user = session.exec(sa.select(Device.user_id).where(Device.pod == "IT002E00000011")).scalar_one()
        session.execute(sa.delete(CounterReading).where(CounterReading.device_id == device.id))
        session.execute(sa.delete(Device).where(Device.id == device.id))
        session.execute(sa.delete(UserCommunity).where(UserCommunity.user_id == user))
        session.commit()
        erased = lake.export(spark, session, [2], lake=lake_copy)
    assert erased[0].purged_devices == [device.id]
    current = lake.read(spark, lake.READINGS, lake_copy)
    assert current.where(current.device == device.id).count() == 0
    assert lake.read(spark, lake.MEMBERS, lake_copy).where(f"member = '{wallet(11)}'").count() == 0
    assert lake.read(spark, lake.MEMBERS, lake_copy).where(f"member = '{wallet(10)}'").count() == 1


def test_forget_and_vacuum_erase_a_member_from_the_tables_and_the_files(spark, world, lake_copy):
    from oracle.spark import lake

    member = wallet(0)
    table = lake.table_path(lake.READINGS, lake_copy)
    before = _version(spark, table)
    devices = set(lake.forget(spark, 1, member, lake_copy))
    assert len(devices) == 2  # the member's home meter and PV meter
    current = lake.read(spark, lake.READINGS, lake_copy)
    assert current.where(current.device.isin(*devices)).count() == 0
    assert lake.read(spark, lake.DEVICES, lake_copy).where(f"member = '{member}'").count() == 0
    assert lake.read(spark, lake.MEMBERS, lake_copy).where(f"member = '{member}'").count() == 0
    old = spark.read.format("delta").option("versionAsOf", before).load(table)
    assert old.where(old.device.isin(*devices)).count() > 0  # still in older versions' files until VACUUM
    assert _rows_in_files(table, "device", devices) > 0

    removed = lake.vacuum(spark, 0, lake_copy)
    assert removed["readings"] > 0
    assert _rows_in_files(table, "device", devices) == 0
    assert _rows_in_files(lake.table_path(lake.DEVICES, lake_copy), "device", devices) == 0
    assert current.count() == lake.read(spark, lake.READINGS, lake_copy).count()  # the others' rows are intact
