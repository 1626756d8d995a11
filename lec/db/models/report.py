"""The report's relational schema (§4.3.6, tables 6–26) as SQLModel tables, plus `ingested_files`.

Names follow the report's tables with readable column names; where the report has a decode table
(`t_frequence`, `t_gdprclassification`, …) the column holds an enum from :mod:`lec.db.enums`.
Energy is in Wh with the report's sign convention (table 13): withdrawal and load +, injection and
production −, battery charge +. Every timestamp is an aware UTC datetime (see :class:`UtcDateTime`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from lec.db.enums import (
    AccountConsumption,
    AnomalyReason,
    AnomalyStatus,
    Channel,
    DataSyntax,
    DeviceKind,
    DeviceStatus,
    EnergyProfile,
    FlowQuantity,
    Frequency,
    FrequencyDerogation,
    GdprClassification,
    IdentificationMethod,
    IngestStatus,
    MeasurementType,
    MemberKind,
    PeriodType,
    ReadingSource,
    SeriesType,
    UseType,
)
from lec.db.types import IntEnumType, UtcDateTime, enum_type, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT for the big tables.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# ---- community tables (report tables 6–11) ----------------------------------------------------------


class Community(SQLModel, table=True):
    """Table 8. `chain_community_id` is the Registry's id of the same community (None until deployed)."""

    __tablename__ = "communities"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    description: str | None = Field(default=None, max_length=255)
    chain_community_id: int | None = Field(default=None, unique=True)
    latitude: float | None = None
    longitude: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class User(SQLModel, table=True):
    """Table 6: personal data, erased on a right-to-be-forgotten request. `external_id` is the Keycloak subject."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=64, unique=True)
    name: str = Field(sa_type=sa.Text)
    surname: str = Field(sa_type=sa.Text)
    address: str | None = Field(default=None, sa_type=sa.Text)
    zip: str | None = Field(default=None, max_length=5)
    city: str | None = Field(default=None, max_length=64)
    province: str | None = Field(default=None, max_length=2)
    fiscal_code: str | None = Field(default=None, max_length=16)
    email: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Role(SQLModel, table=True):
    """Table 7. Names are DESIGN's role names (`token-holder`, `community-admin`, …)."""

    __tablename__ = "roles"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32, unique=True)
    description: str = Field(max_length=255)


class UserCommunity(SQLModel, table=True):
    """Table 9: a user's membership of a community, with the wallet they use in that community only."""

    __tablename__ = "user_communities"
    __table_args__ = (sa.UniqueConstraint("community_id", "wallet"),)

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True)
    wallet: str | None = Field(default=None, max_length=42, index=True)  # checksummed 0x address
    member_kind: MemberKind = Field(default=MemberKind.CITIZEN, sa_type=enum_type(MemberKind))
    energy_profile: EnergyProfile = Field(default=EnergyProfile.CONSUMER, sa_type=enum_type(EnergyProfile))
    active: bool = True
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class UserRole(SQLModel, table=True):
    """The roles a user holds in a community (the report's roles are per community)."""

    __tablename__ = "user_roles"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    role_id: int = Field(foreign_key="roles.id", primary_key=True)


class Supplier(SQLModel, table=True):
    """Table 16: who delivers a data flow (a DSO, ENEL X, a weather site, a simulator)."""

    __tablename__ = "suppliers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    description: str | None = Field(default=None, max_length=255)
    note: str | None = Field(default=None, sa_type=sa.Text)
    url: str | None = Field(default=None, max_length=255)


class SupplierCommunity(SQLModel, table=True):
    """Table 11."""

    __tablename__ = "supplier_communities"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    supplier_id: int = Field(foreign_key="suppliers.id", primary_key=True)


# ---- flows and measurement tables (report tables 14, 17 and the signal labels) ----------------------


class MeasurementTable(SQLModel, table=True):
    """Table 17: destination tables of flows; ids fixed by the report (1 counterreading, 2 weatherdata)."""

    __tablename__ = "measurement_tables"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    name: str = Field(max_length=64, unique=True)
    description: str | None = Field(default=None, max_length=255)
    note: str | None = Field(default=None, sa_type=sa.Text)


class SignalLabel(SQLModel, table=True):
    """Which quantity each column of a measurement table holds, its unit and plausible range (for checks)."""

    __tablename__ = "signal_labels"
    __table_args__ = (sa.UniqueConstraint("measurement_table_id", "column_name"),)

    id: int | None = Field(default=None, primary_key=True)
    measurement_table_id: int = Field(foreign_key="measurement_tables.id")
    column_name: str = Field(max_length=64)
    label: str = Field(max_length=128)
    unit: str | None = Field(default=None, max_length=32)
    min_value: float | None = None
    max_value: float | None = None


class Flow(SQLModel, table=True):
    """Table 14: one data flow from one supplier; `quantity` fixes the sign convention of its energy."""

    __tablename__ = "flows"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    supplier_id: int | None = Field(default=None, foreign_key="suppliers.id")
    description: str | None = Field(default=None, max_length=255)
    note: str | None = Field(default=None, sa_type=sa.Text)
    measurement_table_id: int = Field(default=1, foreign_key="measurement_tables.id")
    quantity: FlowQuantity = Field(sa_type=enum_type(FlowQuantity))
    frequency: Frequency = Field(default=Frequency.QUARTER_HOUR, sa_type=enum_type(Frequency))
    cron_frequency: str | None = Field(default=None, max_length=64)
    frequency_derogation: FrequencyDerogation = Field(
        default=FrequencyDerogation.NONE, sa_type=enum_type(FrequencyDerogation)
    )
    measure_frequency: Frequency = Field(default=Frequency.QUARTER_HOUR, sa_type=enum_type(Frequency))
    measure_cron_frequency: str | None = Field(default=None, max_length=64)
    measure_frequency_derogation: FrequencyDerogation = Field(
        default=FrequencyDerogation.NONE, sa_type=enum_type(FrequencyDerogation)
    )
    measurement_type: MeasurementType = Field(default=MeasurementType.TOTAL, sa_type=enum_type(MeasurementType))
    channel: Channel = Field(default=Channel.MQTT, sa_type=enum_type(Channel))
    channel_description: str | None = Field(default=None, max_length=256)
    data_syntax: DataSyntax | None = Field(default=DataSyntax.JSON, sa_type=enum_type(DataSyntax))
    data_format_reference: str | None = Field(default=None, max_length=256)
    use_rights_statement: str | None = Field(default=None, sa_type=sa.Text)
    gdpr_classification: GdprClassification = Field(
        default=GdprClassification.PERSONAL, sa_type=enum_type(GdprClassification)
    )
    on_error_do: str | None = Field(default=None, sa_type=sa.Text)
    start_time: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    end_time: datetime | None = Field(default=None, sa_type=UtcDateTime)


class FlowCommunity(SQLModel, table=True):
    """Table 10: flows grouped by community, with the consumption/production accounting flag."""

    __tablename__ = "flow_communities"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    flow_id: int = Field(foreign_key="flows.id", primary_key=True)
    account_consumption: AccountConsumption = Field(
        default=AccountConsumption.NONE, sa_type=IntEnumType(AccountConsumption)
    )


# ---- devices (table 15) -----------------------------------------------------------------------------


class Device(SQLModel, table=True):
    """Table 15: a meter, a PV inverter, a battery or a weather station; for a smart meter `pod` is the POD.

    `pod` is the id readings carry. `min_energy_wh`/`max_energy_wh` bound one quarter hour's energy
    (signed, as stored); `max_power_w` bounds |active power|. `default_flow_id` is used for readings that
    name no flow.
    """

    __tablename__ = "devices"

    id: int | None = Field(default=None, primary_key=True)
    pod: str = Field(max_length=64, unique=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    supplier_id: int | None = Field(default=None, foreign_key="suppliers.id")
    default_flow_id: int | None = Field(default=None, foreign_key="flows.id")
    kind: DeviceKind = Field(sa_type=enum_type(DeviceKind))
    identification_method: IdentificationMethod = Field(
        default=IdentificationMethod.POD, sa_type=enum_type(IdentificationMethod)
    )
    alt_device_id: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=128)
    description: str | None = Field(default=None, max_length=256)
    note: str | None = Field(default=None, sa_type=sa.Text)
    device_type: str | None = Field(default=None, max_length=256)
    status: DeviceStatus = Field(default=DeviceStatus.ACTIVE, sa_type=enum_type(DeviceStatus))
    use_type: UseType | None = Field(default=None, sa_type=enum_type(UseType))
    georeference_format: str | None = Field(default="wgs84", max_length=32)
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    activated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    min_energy_wh: float | None = None
    max_energy_wh: float | None = None
    max_power_w: float | None = None


class DeviceFlow(SQLModel, table=True):
    """Which flows a device reports (a 2G meter can send the same quantity at two frequencies)."""

    __tablename__ = "device_flows"

    device_id: int = Field(foreign_key="devices.id", primary_key=True)
    flow_id: int = Field(foreign_key="flows.id", primary_key=True)


# ---- measurements (tables 12, 13) ---------------------------------------------------------------------


class CounterReading(SQLModel, table=True):
    """Table 12: one electrical reading. Unique per (device, flow, timestamp): a re-sent reading is a no-op.

    Two indexes serve the two hot queries: the unique key, ordered (device, timestamp, flow), is the range
    "readings of device D between t1 and t2"; (community, timestamp) is "all readings of community C on a
    day" (`community_id` is copied from the device for it). `tsi` is the ingestion time in Unix ms.

    No foreign-key constraints on purpose: every row comes through validation, which resolves device, flow
    and community first, and the three per-row foreign-key checks halved bulk COPY throughput on PostgreSQL
    (benchmarks/ingest.py: 36 000 → 77 000 rows/s). Delete a device's readings before the device.
    """

    __tablename__ = "counterreading"
    __table_args__ = (
        sa.UniqueConstraint("device_id", "timestamp", "flow_id"),
        sa.Index("ix_counterreading_community_id_timestamp", "community_id", "timestamp"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    device_id: int
    flow_id: int
    community_id: int
    timestamp: datetime = Field(sa_type=UtcDateTime)
    energy_wh: float | None = None
    current_a: float | None = None
    voltage_v: float | None = None
    power_active_w: float | None = None
    power_reactive_var: float | None = None
    charge_status: float | None = None  # battery state of charge, %
    tsi: int = Field(sa_type=sa.BigInteger)
    source: ReadingSource = Field(default=ReadingSource.FILE, sa_type=enum_type(ReadingSource))


class WeatherData(SQLModel, table=True):
    """Weather measured by a station or fetched from a site (flows whose measurement table is 2)."""

    __tablename__ = "weatherdata"
    __table_args__ = (
        sa.UniqueConstraint("device_id", "flow_id", "timestamp"),
        sa.Index("ix_weatherdata_community_id_timestamp", "community_id", "timestamp"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    device_id: int = Field(foreign_key="devices.id")
    flow_id: int = Field(foreign_key="flows.id")
    community_id: int = Field(foreign_key="communities.id")
    timestamp: datetime = Field(sa_type=UtcDateTime)
    temperature_c: float | None = None
    ghi_w_m2: float | None = None  # global horizontal irradiance
    dni_w_m2: float | None = None
    dhi_w_m2: float | None = None
    cloud_cover: float | None = None  # 0..1
    wind_speed_m_s: float | None = None
    humidity: float | None = None  # %
    tsi: int = Field(sa_type=sa.BigInteger)


class Anomaly(SQLModel, table=True):
    """A rejected reading or a suspicious one held for review, with its reason and a sentence a person reads.

    `device_ref` is the device id as received (the device may be unknown); `payload` the reading as
    received (JSON text) and, for a conflicting duplicate, the stored values too.
    """

    __tablename__ = "anomalies"
    __table_args__ = (sa.Index("ix_anomalies_community_id_detected_at", "community_id", "detected_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    detected_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    community_id: int | None = Field(default=None, foreign_key="communities.id")
    device_id: int | None = Field(default=None, foreign_key="devices.id", index=True)
    flow_id: int | None = Field(default=None, foreign_key="flows.id")
    device_ref: str | None = Field(default=None, max_length=128)
    timestamp: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reason: AnomalyReason = Field(sa_type=enum_type(AnomalyReason), index=True)
    message: str = Field(sa_type=sa.Text)
    source: ReadingSource = Field(sa_type=enum_type(ReadingSource))
    source_ref: str | None = Field(default=None, max_length=255)  # file name and row, or MQTT topic
    payload: str | None = Field(default=None, sa_type=sa.Text)
    status: AnomalyStatus = Field(default=AnomalyStatus.OPEN, sa_type=enum_type(AnomalyStatus))
    reviewed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    reviewed_by: str | None = Field(default=None, max_length=64)  # the reviewer's Keycloak subject


class IngestedFile(SQLModel, table=True):
    """A file read from the triage folder: ingested once, recognised by the SHA-256 of its content."""

    __tablename__ = "ingested_files"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=255)
    size: int = Field(sa_type=sa.BigInteger)
    status: IngestStatus = Field(default=IngestStatus.DONE, sa_type=enum_type(IngestStatus))
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    ingested_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# ---- derived time series (tables 18–21) ---------------------------------------------------------------


class DerivedTimeSeries(SQLModel, table=True):
    """Table 18: a series computed from the readings, refreshed on `update_scheduling` (CRON) if set."""

    __tablename__ = "derived_time_series"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    population_reference: str | None = Field(default=None, max_length=255)
    series_type: SeriesType = Field(sa_type=enum_type(SeriesType))
    community_id: int = Field(foreign_key="communities.id", index=True)
    period_type: PeriodType | None = Field(default=None, sa_type=enum_type(PeriodType))
    description: str | None = Field(default=None, max_length=256)
    note: str | None = Field(default=None, sa_type=sa.Text)
    frequency: Frequency | None = Field(default=None, sa_type=enum_type(Frequency))
    entity: str | None = Field(default=None, max_length=64)  # e.g. "active energy"
    unit: str | None = Field(default=None, max_length=32)
    x_format: str | None = Field(default=None, max_length=64)
    measurement_type: MeasurementType | None = Field(default=None, sa_type=enum_type(MeasurementType))
    last_update: datetime | None = Field(default=None, sa_type=UtcDateTime)
    update_scheduling: str | None = Field(default=None, max_length=64)


class DerivedTimeSeriesData(SQLModel, table=True):
    """Table 19: the points of a derived series."""

    __tablename__ = "derived_time_series_data"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    series_id: int = Field(foreign_key="derived_time_series.id", index=True)
    x_value: str = Field(max_length=32)
    y_value: float


class DerivedTimeSeriesUser(SQLModel, table=True):
    """Table 20. `timestamp` (Unix s) is the start of the day/period the link is about, when it is about one."""

    __tablename__ = "derived_time_series_users"

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="derived_time_series.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    timestamp: int | None = Field(default=None, sa_type=sa.BigInteger)


class DerivedTimeSeriesDevice(SQLModel, table=True):
    """Table 21."""

    __tablename__ = "derived_time_series_devices"

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="derived_time_series.id", index=True)
    device_id: int = Field(foreign_key="devices.id", index=True)
    flow_id: int = Field(foreign_key="flows.id")
    timestamp: int | None = Field(default=None, sa_type=sa.BigInteger)


# ---- clustering (tables 22–26) -------------------------------------------------------------------------


class ClusterGroup(SQLModel, table=True):
    """Table 22: one clustering run; `parameters` is its JSON (metric, k, days…)."""

    __tablename__ = "cluster_groups"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=32)
    description: str = Field(max_length=255)
    community_id: int = Field(foreign_key="communities.id", index=True)
    parameters: str | None = Field(default=None, sa_type=sa.Text)
    last_update: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    update_scheduling: str | None = Field(default=None, max_length=255)


class Cluster(SQLModel, table=True):
    """Table 23."""

    __tablename__ = "clusters"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="cluster_groups.id", index=True)
    community_id: int = Field(foreign_key="communities.id")
    description: str = Field(sa_type=sa.Text)


class ClusterDerivedTimeSeries(SQLModel, table=True):
    """Table 24: series computed on a cluster (its mean curve, its std curve…)."""

    __tablename__ = "cluster_derived_time_series"

    cluster_id: int = Field(foreign_key="clusters.id", primary_key=True)
    series_id: int = Field(foreign_key="derived_time_series.id", primary_key=True)


class ClusterUser(SQLModel, table=True):
    """Table 25: a user (or one day of a user, `timestamp` = Unix s of its start) assigned to a cluster."""

    __tablename__ = "cluster_users"

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    timestamp: int | None = Field(default=None, sa_type=sa.BigInteger)


class ClusterDevice(SQLModel, table=True):
    """Table 26: a device (or one of its days) assigned to a cluster."""

    __tablename__ = "cluster_devices"

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int = Field(foreign_key="clusters.id", index=True)
    device_id: int = Field(foreign_key="devices.id", index=True)
    flow_id: int = Field(foreign_key="flows.id")
    timestamp: int | None = Field(default=None, sa_type=sa.BigInteger)
