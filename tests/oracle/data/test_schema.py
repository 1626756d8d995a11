"""The report's schema round-trips on SQLite and on a real PostgreSQL, and the migration builds the same schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel, select

from lec.db.enums import AccountConsumption, DeviceKind, EnergyProfile, FlowQuantity, MemberKind
from lec.db.migrate import current_revision, upgrade
from lec.db.models import (
    Cluster,
    ClusterGroup,
    ClusterUser,
    Community,
    CounterReading,
    Device,
    Flow,
    FlowCommunity,
    MeasurementTable,
    Role,
    User,
    UserCommunity,
)
from lec.db.session import get_engine, init_db


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> sa.Engine:
    if request.param == "sqlite":
        return init_db(get_engine(f"sqlite:///{tmp_path / 'lec.db'}"))
    make_db: Callable[[], str] = request.getfixturevalue("make_postgres_db")
    return init_db(get_engine(make_db()))


def _community_with_device(session: Session) -> tuple[Community, Flow, Device]:
    community = Community(name="Borgo Solare", chain_community_id=1)
    flow = Flow(name="load-15min", quantity=FlowQuantity.LOAD)
    session.add_all([community, flow])
    session.flush()
    device = Device(pod="IT001E00000001", community_id=community.id, kind=DeviceKind.CONSUMPTION_METER, name="Casa 1")
    session.add(device)
    session.flush()
    return community, flow, device


def test_membership_and_readings_round_trip(engine: sa.Engine) -> None:
    rome = timezone(timedelta(hours=1))
    with Session(engine) as session:
        community, flow, device = _community_with_device(session)
        user = User(external_id="kc-sub-1", name="Anna", surname="Rossi", email="anna@example.org")
        session.add(user)
        session.flush()
        session.add(
            UserCommunity(
                community_id=community.id,
                user_id=user.id,
                wallet="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                member_kind=MemberKind.STAKEHOLDER,
                energy_profile=EnergyProfile.PROSTORMER,
            )
        )
        session.add(
            FlowCommunity(
                community_id=community.id, flow_id=flow.id, account_consumption=AccountConsumption.CONSUMPTION
            )
        )
        # Given in local time: must come back as the same instant in UTC.
        session.add(
            CounterReading(
                device_id=device.id,
                flow_id=flow.id,
                community_id=community.id,
                timestamp=datetime(2026, 3, 1, 10, 15, tzinfo=rome),
                energy_wh=-123.5,
                tsi=1,
            )
        )
        session.commit()

    with Session(engine) as session:
        reading = session.exec(select(CounterReading)).one()
        assert reading.timestamp == datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
        assert reading.timestamp.tzinfo is not None
        assert reading.energy_wh == -123.5
        member = session.exec(select(UserCommunity)).one()
        assert member.member_kind is MemberKind.STAKEHOLDER and member.energy_profile is EnergyProfile.PROSTORMER
        link = session.exec(select(FlowCommunity)).one()
        assert link.account_consumption is AccountConsumption.CONSUMPTION
        # Enums are stored as their values, readable from plain SQL.
        raw = session.connection().exec_driver_sql("SELECT member_kind, energy_profile FROM user_communities").one()
        assert tuple(raw) == ("stakeholder", "prostormer")


def test_reference_rows_present(engine: sa.Engine) -> None:
    with Session(engine) as session:
        tables = {t.id: t.name for t in session.exec(select(MeasurementTable)).all()}
        assert tables == {1: "counterreading", 2: "weatherdata"}
        roles = set(session.exec(select(Role.name)).all())
        assert {"platform-admin", "community-admin", "token-admin", "oracle-admin", "token-holder", "auditor"} <= roles
    init_db(engine)  # a second call inserts nothing twice
    with Session(engine) as session:
        assert len(session.exec(select(Role)).all()) == len(roles)


def test_same_device_flow_timestamp_is_unique(engine: sa.Engine) -> None:
    ts = datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    with Session(engine) as session:
        community, flow, device = _community_with_device(session)
        for value in (1.0, 2.0):
            session.add(
                CounterReading(
                    device_id=device.id,
                    flow_id=flow.id,
                    community_id=community.id,
                    timestamp=ts,
                    energy_wh=value,
                    tsi=1,
                )
            )
        with pytest.raises(IntegrityError):
            session.commit()


def test_naive_timestamp_refused(engine: sa.Engine) -> None:
    with Session(engine) as session:
        community, flow, device = _community_with_device(session)
        session.add(
            CounterReading(
                device_id=device.id,
                flow_id=flow.id,
                community_id=community.id,
                timestamp=datetime(2026, 3, 1, 9, 15),
                energy_wh=1.0,
                tsi=1,
            )
        )
        with pytest.raises(StatementError, match="no time zone"):
            session.commit()


def test_enum_column_refuses_unknown_value_in_sql(engine: sa.Engine) -> None:
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.exec_driver_sql(
            "INSERT INTO flows (name, measurement_table_id, quantity, frequency, frequency_derogation, "
            "measure_frequency, measure_frequency_derogation, measurement_type, channel, gdpr_classification, "
            "start_time) VALUES ('x', 1, 'antimatter', 'hour', 'none', 'hour', 'none', 'total', 'mqtt', "
            "'personal', CURRENT_TIMESTAMP)"
        )


def test_cluster_tables_link_users(engine: sa.Engine) -> None:
    with Session(engine) as session:
        community, _, _ = _community_with_device(session)
        user = User(external_id="kc-sub-2", name="Bruno", surname="Verdi", email="b@example.org")
        group = ClusterGroup(name="k4-l1", description="k-means, k=4, L1", community_id=community.id)
        session.add_all([user, group])
        session.flush()
        cluster = Cluster(group_id=group.id, community_id=community.id, description="evening peak")
        session.add(cluster)
        session.flush()
        session.add(ClusterUser(cluster_id=cluster.id, user_id=user.id, timestamp=1_772_319_600))
        session.commit()
        assert session.exec(select(ClusterUser.timestamp)).one() == 1_772_319_600


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_builds_the_models_schema(backend: str, tmp_path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else request.getfixturevalue("make_postgres_db")()
    engine = get_engine(url)
    upgrade(engine)
    assert current_revision(engine) == _head()
    from lec.db.models import api, market, proofs, report

    # Every table of the platform: the report's schema, the market's listings, the proofs' salts, the API's tables.
    ours = set().union(*(_model_tables(m) for m in (report, market, proofs, api)))
    assert {"market_listing", "leaf_salts", "api_registration_requests"} <= ours
    with engine.connect() as connection:
        assert ours <= set(sa.inspect(connection).get_table_names())
        diffs = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    # Tables of modules not listed above (none today) would arrive with their own migrations.
    relevant = [d for d in diffs if _diff_table(d) in ours]
    assert relevant == []


def test_migrations_have_one_head() -> None:
    from alembic.script import ScriptDirectory

    from lec.db.migrate import alembic_config

    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def _head() -> str:
    from alembic.script import ScriptDirectory

    from lec.db.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _model_tables(models_module: object) -> set[str]:
    return {
        obj.__tablename__
        for obj in vars(models_module).values()
        if isinstance(obj, type) and issubclass(obj, SQLModel) and hasattr(obj, "__table__")
    }


def _diff_table(diff: object) -> str | None:
    entry = diff[0] if isinstance(diff, list) else diff
    for item in entry[1:] if isinstance(entry, tuple) else ():
        if isinstance(item, sa.Table):
            return item.name
        if hasattr(item, "table") and isinstance(item.table, sa.Table):
            return item.table.name
        if isinstance(item, str):
            return item
    return None
