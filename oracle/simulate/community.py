"""`lec oracle simulate`: a realistic synthetic community written to the database, deterministic per seed.

Members: households of 1–5 people (BDEW H0 scaled to Italian annual consumptions), shops (G4/G0), a school
(G1, weekdays only), PV on prosumers and a battery on prostormers. PV follows pvlib's clear sky for an
Italian site with the community's shared cloudiness. When `deployments/<chainId>.json` lists the community,
the first eight members are the demo's members (anvil accounts 1–8, same kinds and profiles as
scripts/seed.py); further members get deterministic generated addresses.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from eth_utils import keccak, to_checksum_address
from sqlmodel import Session, select

from lec import calendar
from lec.db.enums import (
    AccountConsumption,
    Channel,
    DeviceKind,
    EnergyProfile,
    FlowQuantity,
    GdprClassification,
    MeasurementTableId,
    MemberKind,
    ReadingSource,
    UseType,
)
from lec.db.models import (
    Community,
    Device,
    DeviceFlow,
    Flow,
    FlowCommunity,
    Supplier,
    SupplierCommunity,
    User,
    UserCommunity,
    WeatherData,
)
from oracle.flex.demo import apply_response
from oracle.ingest.store import BatchOutcome, store_batch
from oracle.simulate import profiles
from oracle.validation import Reading

# Rome's outskirts: a central-Italy site (the report's pilots are in Lazio and Emilia).
SITE = (41.85, 12.60)
# anvil's default mnemonic; accounts 1..8 are the demo community's members (scripts/seed.py).
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
# Typical Italian annual consumptions by household size (ARERA/ISTAT orders of magnitude), kWh.
HOUSEHOLD_KWH = {1: 1500.0, 2: 2200.0, 3: 2700.0, 4: 3200.0, 5: 3800.0}
FIRST_NAMES = ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Andrea", "Sara", "Matteo", "Elena", "Paolo"]
SURNAMES = ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"]


@dataclass(frozen=True)
class MemberSpec:
    index: int  # 1-based
    label: str  # "household of 3", "grocery shop", "school"
    kind: MemberKind
    profile: EnergyProfile
    bdew: str
    annual_kwh: float
    pv_kwp: float = 0.0
    battery_kwh: float = 0.0
    use_type: UseType = UseType.RESIDENTIAL
    contracted_kw: float = 4.5

    @property
    def pod(self) -> str:
        return f"IT001E{self.index:08d}"


# The demo's eight members, as scripts/seed.py adds them on chain: (kind, profile, what they are).
_DEMO = [
    (MemberKind.CITIZEN, EnergyProfile.PROSUMER, "household"),
    (MemberKind.CITIZEN, EnergyProfile.CONSUMER, "household"),
    (MemberKind.CITIZEN, EnergyProfile.PROSTORMER, "household"),
    (MemberKind.CITIZEN, EnergyProfile.CONSUMER, "household"),
    (MemberKind.CITIZEN, EnergyProfile.PROSUMER, "household"),
    (MemberKind.STAKEHOLDER, EnergyProfile.CONSUMER, "shop"),
    (MemberKind.STAKEHOLDER, EnergyProfile.PROSUMER, "school"),
    (MemberKind.STAKEHOLDER, EnergyProfile.PROSUMER, "retailer"),
]


def _spec(index: int, kind: MemberKind, profile: EnergyProfile, what: str, rng: np.random.Generator) -> MemberSpec:
    pv = 0.0
    if what == "household":
        size = int(rng.integers(1, 6))
        if profile is not EnergyProfile.CONSUMER:
            pv = float(rng.choice([3.0, 4.5, 6.0]))
        return MemberSpec(
            index,
            f"household of {size}",
            kind,
            profile,
            "h0",
            HOUSEHOLD_KWH[size] * float(rng.uniform(0.85, 1.15)),
            pv_kwp=pv,
            battery_kwh=10.0 if profile is EnergyProfile.PROSTORMER else 0.0,
            contracted_kw=4.5,
        )
    if what == "school":
        return MemberSpec(
            index,
            "school",
            kind,
            profile,
            "g1",
            float(rng.uniform(25_000, 40_000)),
            pv_kwp=20.0 if profile is not EnergyProfile.CONSUMER else 0.0,
            use_type=UseType.PUBLIC,
            contracted_kw=40.0,
        )
    label = "grocery shop" if what == "shop" else "new-goods retailer"
    return MemberSpec(
        index,
        label,
        kind,
        profile,
        "g4" if what == "shop" else "g0",
        float(rng.uniform(8_000, 15_000)),
        pv_kwp=10.0 if profile is not EnergyProfile.CONSUMER else 0.0,
        battery_kwh=20.0 if profile is EnergyProfile.PROSTORMER else 0.0,
        use_type=UseType.COMMERCIAL,
        contracted_kw=15.0,
    )


def member_specs(count: int, rng: np.random.Generator) -> list[MemberSpec]:
    """The demo's eight first, then a realistic mix: mostly households, some shops, one more school per 25."""
    specs = []
    for index in range(1, count + 1):
        if index <= len(_DEMO):
            kind, profile, what = _DEMO[index - 1]
        else:
            draw = rng.random()
            if index % 25 == 0:
                kind, what = MemberKind.STAKEHOLDER, "school"
            elif draw < 0.12:
                kind, what = MemberKind.STAKEHOLDER, "shop"
            else:
                kind, what = MemberKind.CITIZEN, "household"
            profile = EnergyProfile(rng.choice(["consumer", "prosumer", "prostormer"], p=[0.5, 0.38, 0.12]))
        specs.append(_spec(index, kind, profile, what, rng))
    return specs


def _position(seed: int, community_id: int, user_id: int | None) -> dict[str, float]:
    """A member's devices sit at its home, somewhere within ~600 m of the site (a neighbourhood, as in a CER
    behind one primary substation); drawn from its own generator so the readings' random stream is untouched."""
    local = random.Random(f"lec-position:{seed}:{community_id}:{user_id}")
    return {
        "latitude": round(SITE[0] + local.uniform(-0.0055, 0.0055), 5),
        "longitude": round(SITE[1] + local.uniform(-0.0075, 0.0075), 5),
    }


def anvil_address(index: int) -> str:
    """anvil's default account `index` (derived from its public test mnemonic, BIP-44 path m/44'/60'/0'/0/i)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").address


def demo_wallets() -> list[str]:
    """anvil's accounts 1..8: the demo community's members."""
    return [anvil_address(i) for i in range(1, 9)]


def generated_wallet(seed: int, community_id: int, index: int) -> str:
    return to_checksum_address(keccak(text=f"lec-simulated-member:{seed}:{community_id}:{index}")[-20:])


def deployed_community(deployments: Path, community_id: int) -> dict | None:
    """The community's entry in any deployments/<chainId>.json, or None when nothing is deployed."""
    if not deployments.is_dir():
        return None
    for path in sorted(deployments.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        for entry in data.get("communities", []) if isinstance(data, dict) else []:
            if isinstance(entry, dict) and entry.get("id") == community_id:
                return entry
    return None


@dataclass(frozen=True)
class Curves:
    shapes: dict[str, np.ndarray]  # Wh per quarter hour of a 1 000 kWh/year consumer, by BDEW profile
    pv_per_kwp: np.ndarray  # Wh per quarter hour of 1 kWp


@dataclass
class SimulationResult:
    community_id: int
    members: int
    devices: int
    readings: int
    duplicates: int
    wallets_from_deployment: int


def _get_or_create_flow(session: Session, name: str, quantity: FlowQuantity, supplier_id: int) -> Flow:
    flow = session.exec(select(Flow).where(Flow.name == name)).first()
    if flow is None:
        flow = Flow(
            name=name,
            quantity=quantity,
            supplier_id=supplier_id,
            channel=Channel.SIMULATED,
            description=f"Simulated {quantity.value}, 15-minute energy",
            measurement_table_id=(
                MeasurementTableId.WEATHERDATA
                if quantity is FlowQuantity.WEATHER
                else MeasurementTableId.COUNTERREADING
            ).value,
            gdpr_classification=(
                GdprClassification.NOT_PERSONAL if quantity is FlowQuantity.WEATHER else GdprClassification.PERSONAL
            ),
            start_time=datetime(2020, 1, 1, tzinfo=UTC),
        )
        session.add(flow)
        session.flush()
    return flow


def _ensure_device(session: Session, pod: str, **fields: object) -> Device:
    device = session.exec(select(Device).where(Device.pod == pod)).first()
    if device is None:
        device = Device(pod=pod, **fields)  # type: ignore[arg-type]
        session.add(device)
        session.flush()
        session.add(DeviceFlow(device_id=device.id, flow_id=fields["default_flow_id"]))  # type: ignore[arg-type]
    return device


def simulate(
    engine: sa.Engine,
    members: int,
    days: int,
    start: date,
    seed: int = 0,
    community_id: int = 1,
    deployments: Path | None = None,
) -> SimulationResult:
    """Create (or complete) the community, its members and devices, and store their readings."""
    if members < 1 or days < 1:
        raise ValueError("Simulate at least one member for at least one day.")
    rng = np.random.default_rng(seed)
    specs = member_specs(members, rng)
    entry = deployed_community(deployments, community_id) if deployments else None
    wallets = demo_wallets() if entry else []
    grid = calendar.local_day_grid(start, days)
    cloud = profiles.cloudiness(grid, rng)
    # Every member sees the same sky: one PV curve per kWp and one shape per BDEW profile, scaled per member.
    curves = Curves(
        shapes={p: profiles.bdew_shape(grid, p) for p in sorted({s.bdew for s in specs})},
        pv_per_kwp=profiles.pv_production(grid, 1.0, SITE[0], SITE[1], cloud),
    )
    activation = grid[0].to_pydatetime()

    with Session(engine, expire_on_commit=False) as session:
        community = session.get(Community, community_id)
        if community is None:
            name = entry["name"] if entry else f"Simulated community {community_id}"
            community = Community(
                id=community_id,
                name=name,
                # The Registry's id: the oracle's period pipeline finds communities by it, on chain or not yet.
                chain_community_id=community_id,
                description="Synthetic community (lec oracle simulate)",
                latitude=SITE[0],
                longitude=SITE[1],
            )
            session.add(community)
        elif community.chain_community_id is None:
            community.chain_community_id = community_id
        supplier = session.exec(select(Supplier).where(Supplier.name == "LEC simulator")).first()
        if supplier is None:
            supplier = Supplier(name="LEC simulator", description="Synthetic data from lec oracle simulate")
            session.add(supplier)
        session.flush()
        assert supplier.id is not None
        if session.get(SupplierCommunity, (community_id, supplier.id)) is None:
            session.add(SupplierCommunity(community_id=community_id, supplier_id=supplier.id))
        flows = {q: _get_or_create_flow(session, f"sim-{q.value}-15min", q, supplier.id) for q in FlowQuantity}
        for quantity, account in (
            (FlowQuantity.LOAD, AccountConsumption.CONSUMPTION),
            (FlowQuantity.PRODUCTION, AccountConsumption.PRODUCTION),
        ):
            flow_id = flows[quantity].id
            assert flow_id is not None
            if session.get(FlowCommunity, (community_id, flow_id)) is None:
                session.add(FlowCommunity(community_id=community_id, flow_id=flow_id, account_consumption=account))
        station = _ensure_device(
            session,
            f"WS-{community_id:04d}",
            community_id=community_id,
            kind=DeviceKind.WEATHER_STATION,
            name="Weather station",
            default_flow_id=flows[FlowQuantity.WEATHER].id,
            supplier_id=supplier.id,
            activated_at=activation,
            latitude=SITE[0],
            longitude=SITE[1],
        )
        readings: list[Reading] = []
        device_count = 1
        for spec in specs:
            user_device_readings = _member(
                session, spec, community_id, seed, wallets, flows, supplier.id, activation, grid, curves, rng
            )
            device_count += len({r.device_id for r in user_device_readings})
            readings.extend(user_device_readings)
        readings = apply_response(session, community_id, readings)  # the demo's DR event (oracle/flex/demo.py)
        session.commit()
        station_id = station.id
    if engine.dialect.name == "postgresql":
        # An explicit community id does not advance PostgreSQL's sequence; keep later inserts from colliding.
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('communities', 'id'), (SELECT MAX(id) FROM communities))"
            )

    outcome = BatchOutcome()
    with engine.begin() as connection:
        for start_row in range(0, len(readings), 100_000):
            outcome.merge(
                store_batch(
                    connection,
                    readings[start_row : start_row + 100_000],
                    [],
                    ReadingSource.SIMULATED,
                    "lec oracle simulate",
                )
            )
        _store_weather(connection, grid, cloud, station_id, flows[FlowQuantity.WEATHER].id, community_id)
    return SimulationResult(
        community_id=community_id,
        members=len(specs),
        devices=device_count,
        readings=outcome.accepted,
        duplicates=outcome.duplicates,
        wallets_from_deployment=min(len(wallets), len(specs)),
    )


def _member(
    session: Session,
    spec: MemberSpec,
    community_id: int,
    seed: int,
    wallets: Sequence[str],
    flows: dict[FlowQuantity, Flow],
    supplier_id: int,
    activation: datetime,
    grid: pd.DatetimeIndex,
    curves: Curves,
    rng: np.random.Generator,
) -> list[Reading]:
    external_id = f"sim-{community_id}-{spec.index}"
    wallet = wallets[spec.index - 1] if spec.index <= len(wallets) else generated_wallet(seed, community_id, spec.index)
    # The wallet's member first: `lec community import` or the demo's identity binding may hold it under another
    # user (the binding renames the simulated user to its Keycloak subject), and a second run must find it.
    bound = session.exec(
        select(UserCommunity).where(UserCommunity.community_id == community_id, UserCommunity.wallet == wallet)
    ).first()
    user = session.get(User, bound.user_id) if bound is not None else None
    if user is None:
        user = session.exec(select(User).where(User.external_id == external_id)).first()
    if user is None:
        first = FIRST_NAMES[(spec.index - 1) % len(FIRST_NAMES)]
        last = SURNAMES[((spec.index - 1) // len(FIRST_NAMES) + spec.index) % len(SURNAMES)]
        user = User(
            external_id=external_id,
            name=first if spec.kind is MemberKind.CITIZEN else spec.label.title(),
            surname=last,
            email=f"member{spec.index}.c{community_id}@example.org",
            city="Roma",
            province="RM",
        )
        session.add(user)
        session.flush()
    assert user.id is not None
    if session.get(UserCommunity, (community_id, user.id)) is None:
        session.add(
            UserCommunity(
                community_id=community_id,
                user_id=user.id,
                wallet=wallet,
                member_kind=spec.kind,
                energy_profile=spec.profile,
            )
        )
    max_q = spec.contracted_kw * 1000 * profiles.QUARTER_H
    common = {
        "community_id": community_id,
        "user_id": user.id,
        "supplier_id": supplier_id,
        "activated_at": activation,
        "use_type": spec.use_type,
        **_position(seed, community_id, user.id),
    }
    shift = int(rng.integers(-2, 3))
    load = np.minimum(
        profiles.consumer_load(grid, curves.shapes[spec.bdew], spec.annual_kwh, rng, shift_quarters=shift), max_q
    )
    meter = _ensure_device(
        session,
        spec.pod,
        kind=DeviceKind.CONSUMPTION_METER,
        name=f"{spec.label} — load",
        default_flow_id=flows[FlowQuantity.LOAD].id,
        min_energy_wh=0.0,
        max_energy_wh=max_q,
        max_power_w=spec.contracted_kw * 1000,
        **common,
    )
    series: list[tuple[Device, Flow, np.ndarray]] = [(meter, flows[FlowQuantity.LOAD], load)]
    if spec.pv_kwp > 0:
        pv_max = spec.pv_kwp * 1000 * profiles.QUARTER_H
        pv = np.minimum(curves.pv_per_kwp * spec.pv_kwp, pv_max)
        pv_meter = _ensure_device(
            session,
            spec.pod + "P",
            kind=DeviceKind.PRODUCTION_METER,
            name=f"{spec.label} — PV {spec.pv_kwp:g} kWp",
            default_flow_id=flows[FlowQuantity.PRODUCTION].id,
            min_energy_wh=-pv_max,
            max_energy_wh=0.0,
            max_power_w=spec.pv_kwp * 1000,
            **common,
        )
        series.append((pv_meter, flows[FlowQuantity.PRODUCTION], -pv))
        if spec.battery_kwh > 0:
            rate = spec.battery_kwh * 1000 / 2 * profiles.QUARTER_H  # a 0.5 C battery
            battery = profiles.battery_dispatch(load, pv, spec.battery_kwh * 1000, rate)
            battery_device = _ensure_device(
                session,
                spec.pod + "B",
                kind=DeviceKind.BATTERY,
                name=f"{spec.label} — battery {spec.battery_kwh:g} kWh",
                default_flow_id=flows[FlowQuantity.STORAGE].id,
                min_energy_wh=-rate,
                max_energy_wh=rate,
                max_power_w=rate * 4,
                **common,
            )
            exchange = _ensure_device(
                session,
                spec.pod + "X",
                kind=DeviceKind.EXCHANGE_METER,
                name=f"{spec.label} — grid exchange",
                default_flow_id=flows[FlowQuantity.EXCHANGE].id,
                min_energy_wh=-(pv_max + rate),
                max_energy_wh=max_q + rate,
                max_power_w=(spec.contracted_kw * 1000 + rate * 4),
                **common,
            )
            series.append((battery_device, flows[FlowQuantity.STORAGE], battery))
            series.append((exchange, flows[FlowQuantity.EXCHANGE], load - pv + battery))
    stamps = grid.to_pydatetime()
    out: list[Reading] = []
    for device, flow, values in series:
        rounded = np.round(values, 1)
        assert device.id is not None and flow.id is not None
        out.extend(
            Reading(device_id=device.id, flow_id=flow.id, community_id=community_id, timestamp=ts, energy_wh=float(v))
            for ts, v in zip(stamps, rounded, strict=True)
        )
    return out


def _store_weather(
    connection: sa.Connection,
    grid: pd.DatetimeIndex,
    cloud: np.ndarray,
    device_id: int | None,
    flow_id: int | None,
    community_id: int,
) -> None:
    table = WeatherData.__table__  # type: ignore[attr-defined]
    ghi = profiles.clear_sky_ghi(grid, *SITE) * (1.0 - 0.75 * np.power(cloud, 3.4))
    hours = grid.tz_convert(calendar.ROME).hour.to_numpy() + grid.tz_convert(calendar.ROME).minute.to_numpy() / 60
    day_of_year = grid.tz_convert(calendar.ROME).dayofyear.to_numpy()
    temperature = 15 - 9 * np.cos((day_of_year - 20) / 365 * 2 * np.pi) - 4 * np.cos((hours - 3) / 24 * 2 * np.pi)
    existing = {
        row[0]
        for row in connection.execute(
            sa.select(table.c.timestamp).where(
                table.c.device_id == device_id,
                table.c.timestamp >= grid[0].to_pydatetime(),
                table.c.timestamp <= grid[-1].to_pydatetime(),
            )
        )
    }
    tsi = int(datetime.now(UTC).timestamp() * 1000)
    rows = [
        {
            "device_id": device_id,
            "flow_id": flow_id,
            "community_id": community_id,
            "timestamp": ts,
            "temperature_c": round(float(t), 1),
            "ghi_w_m2": round(float(g), 1),
            "cloud_cover": round(float(c), 3),
            "tsi": tsi,
        }
        for ts, t, g, c in zip(grid.to_pydatetime(), temperature, ghi, cloud, strict=True)
        if ts not in existing
    ]
    if rows:
        connection.execute(sa.insert(table), rows)
