"""Rows every database needs: the report's measurement tables, their signal labels and DESIGN's roles."""

from __future__ import annotations

from sqlmodel import Session, select

from lec.db.enums import MeasurementTableId
from lec.db.models import MeasurementTable, Role, SignalLabel

ROLES: dict[str, str] = {
    "platform-admin": "Creates communities and grants platform roles.",
    "community-admin": "Approves members, publishes community tasks, resolves disputes.",
    "token-admin": "Sets fees, incentives and welcome bonuses; sells tokens to stakeholders.",
    "oracle-admin": "Registers reward models and runs the oracle.",
    "token-holder": "A member of a community: sees own data, claims rewards, trades tokens.",
    "auditor": "Verifies data and rewards against the hashes notarised on chain.",
}

# (column, label, unit, min, max): the plausible range of each measured column, used by anomaly checks.
_COUNTERREADING_LABELS = [
    ("energy_wh", "active energy in the interval", "Wh", None, None),
    ("current_a", "current", "A", -1000.0, 1000.0),
    ("voltage_v", "voltage", "V", 0.0, 1000.0),
    ("power_active_w", "active power", "W", None, None),
    ("power_reactive_var", "reactive power", "var", None, None),
    ("charge_status", "battery state of charge", "%", 0.0, 100.0),
]
_WEATHER_LABELS = [
    ("temperature_c", "air temperature", "°C", -40.0, 60.0),
    ("ghi_w_m2", "global horizontal irradiance", "W/m²", 0.0, 1500.0),
    ("cloud_cover", "cloud cover", "1", 0.0, 1.0),
]


def ensure_reference_rows(session: Session) -> None:
    """Insert what is missing; never changes a row that is already there (an admin may have edited it)."""
    if session.get(MeasurementTable, MeasurementTableId.COUNTERREADING.value) is None:
        session.add(
            MeasurementTable(
                id=MeasurementTableId.COUNTERREADING.value,
                name="counterreading",
                description="Electrical readings of meters",
            )
        )
    if session.get(MeasurementTable, MeasurementTableId.WEATHERDATA.value) is None:
        session.add(
            MeasurementTable(
                id=MeasurementTableId.WEATHERDATA.value, name="weatherdata", description="Weather observations"
            )
        )
    session.flush()
    known = {(s.measurement_table_id, s.column_name) for s in session.exec(select(SignalLabel)).all()}
    for table_id, labels in (
        (MeasurementTableId.COUNTERREADING.value, _COUNTERREADING_LABELS),
        (MeasurementTableId.WEATHERDATA.value, _WEATHER_LABELS),
    ):
        for column, label, unit, low, high in labels:
            if (table_id, column) not in known:
                session.add(
                    SignalLabel(
                        measurement_table_id=table_id,
                        column_name=column,
                        label=label,
                        unit=unit,
                        min_value=low,
                        max_value=high,
                    )
                )
    present = set(session.exec(select(Role.name)).all())
    for name, description in ROLES.items():
        if name not in present:
            session.add(Role(name=name, description=description))
