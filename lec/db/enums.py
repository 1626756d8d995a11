"""The report's decode tables (t_frequence, t_measurementtype, t_gdprclassification, …) as enums.

The report leaves these tables' rows open; the members here are the ones a community actually needs, named
in English. Stored by value (see :func:`lec.db.types.enum_type`).
"""

from __future__ import annotations

import enum


class MemberKind(enum.StrEnum):
    """Matches CommunityToken's `kind` (1 citizen, 2 stakeholder)."""

    CITIZEN = "citizen"
    STAKEHOLDER = "stakeholder"


class EnergyProfile(enum.StrEnum):
    """Matches CommunityToken's `profile` (0 consumer, 1 prosumer, 2 prostormer)."""

    CONSUMER = "consumer"
    PROSUMER = "prosumer"
    PROSTORMER = "prostormer"


class Frequency(enum.StrEnum):
    """t_frequence: how often a flow is sent or measured."""

    SECOND = "second"
    MINUTE = "minute"
    QUARTER_HOUR = "quarter_hour"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    IRREGULAR = "irregular"


class FrequencyDerogation(enum.StrEnum):
    """t_frequencyderogation: whether extra messages outside the schedule are allowed (e.g. power excess)."""

    NONE = "none"
    ALLOWED = "allowed"
    MANDATORY_ON_EVENT = "mandatory_on_event"


class MeasurementType(enum.StrEnum):
    """t_measurementtype: what a value summarises over its interval."""

    INSTANTANEOUS = "instantaneous"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    TOTAL = "total"
    CUMULATIVE = "cumulative"


class DataSyntax(enum.StrEnum):
    """t_datasyntax."""

    TXT = "txt"
    CSV = "csv"
    XML = "xml"
    JSON = "json"
    PROPRIETARY = "proprietary"


class Channel(enum.StrEnum):
    """How a flow reaches the platform (the report's channeldescription, decoded)."""

    FILE = "file"
    SFTP = "sftp"
    MQTT = "mqtt"
    REST = "rest"
    SIMULATED = "simulated"


class GdprClassification(enum.StrEnum):
    """t_gdprclassification: consumption curves of a household are personal data; weather is not."""

    NOT_PERSONAL = "not_personal"
    PERSONAL = "personal"
    PSEUDONYMISED = "pseudonymised"
    ANONYMOUS = "anonymous"


class FlowQuantity(enum.StrEnum):
    """What a flow's energy measures; fixes its sign per the report's table 13.

    load: absorbed by the load, >= 0; production: PV and other generation, <= 0; exchange: the grid meter,
    + withdrawal / − injection; storage: + charging / − discharging; weather: not energy.
    """

    LOAD = "load"
    PRODUCTION = "production"
    EXCHANGE = "exchange"
    STORAGE = "storage"
    WEATHER = "weather"


class AccountConsumption(enum.IntEnum):
    """flows↔communities `accountconsumption`: 1 counts the flow as community load, 2 as production."""

    NONE = 0
    CONSUMPTION = 1
    PRODUCTION = 2


class MeasurementTableId(enum.IntEnum):
    """measurementstables ids fixed by the report: the flow's destination table."""

    COUNTERREADING = 1
    WEATHERDATA = 2


class IdentificationMethod(enum.StrEnum):
    """t_identificationmethod: how a device id is assigned."""

    POD = "pod"
    SERIAL = "serial"
    SUPPLIER_CODE = "supplier_code"
    INTERNAL = "internal"


class DeviceKind(enum.StrEnum):
    """The device type, as far as the oracle needs it."""

    CONSUMPTION_METER = "consumption_meter"
    PRODUCTION_METER = "production_meter"
    EXCHANGE_METER = "exchange_meter"
    BATTERY = "battery"
    WEATHER_STATION = "weather_station"


class DeviceStatus(enum.StrEnum):
    """t_devicestatus."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    FAULTY = "faulty"
    DECOMMISSIONED = "decommissioned"


class UseType(enum.StrEnum):
    """t_usetype: the kind of user behind a device."""

    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    PUBLIC = "public"
    INDUSTRIAL = "industrial"
    AGRICULTURAL = "agricultural"


class ReadingSource(enum.StrEnum):
    FILE = "file"
    MQTT = "mqtt"
    API = "api"
    SIMULATED = "simulated"


class AnomalyReason(enum.StrEnum):
    """Why a reading was rejected or held for review; docs/ingestion.md explains each one."""

    MALFORMED = "malformed"  # not a reading at all: not an object, missing fields, unparsable payload
    UNKNOWN_COMMUNITY = "unknown_community"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_FLOW = "unknown_flow"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    FUTURE_TIMESTAMP = "future_timestamp"
    BEFORE_ACTIVATION = "before_activation"
    OUT_OF_BOUNDS = "out_of_bounds"
    SIGN_VIOLATION = "sign_violation"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    SILENT_DEVICE = "silent_device"  # a device sent nothing for a whole day ("mancanza di rilevazione", §4.3.9)
    MISSING_READINGS = "missing_readings"  # a gap of quarter hours in a device's day


class AnomalyStatus(enum.StrEnum):
    OPEN = "open"
    REVIEWED = "reviewed"
    RESOLVED = "resolved"


class SeriesType(enum.StrEnum):
    """T_derivedtimeseriestype."""

    CLEANED_READINGS = "cleaned_readings"
    MEAN_DAILY_CURVE = "mean_daily_curve"
    CLUSTER_MEAN_CURVE = "cluster_mean_curve"
    CLUSTER_STD_CURVE = "cluster_std_curve"
    TARGET_CURVE = "target_curve"
    KPI = "kpi"


class PeriodType(enum.StrEnum):
    """T_periodtype: the span a derived series covers."""

    DAY = "day"
    WEEKDAY = "weekday"
    HOLIDAY = "holiday"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    CUSTOM = "custom"


class IngestStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
