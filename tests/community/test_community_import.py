"""`lec community import`: strict manifest, idempotent import in one transaction, and the fresh-clone flow
(import → ingest a day of CSV → incentive) without the simulator."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, select

from lec.cli import lec
from lec.community.importer import import_manifest
from lec.community.manifest import Manifest, ManifestError, parse_manifest
from lec.db.models import CounterReading, Device, FlowCommunity, MemberPoint, Plant, UserCommunity
from lec.db.session import get_engine, init_db
from oracle.incentive.service import as_json, community_incentive

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "community-manifest.json"
READINGS = ROOT / "docs" / "examples" / "readings-2026-05-04.csv"


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    return init_db(get_engine(f"sqlite:///{tmp_path / 'lec.db'}"))


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def load(data: dict) -> Manifest:
    return parse_manifest(json.dumps(data))


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {
            t: c.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one()  # noqa: S608 - fixed table names
            for t in (
                "communities",
                "users",
                "user_communities",
                "devices",
                "device_flows",
                "flows",
                "flow_communities",
                "suppliers",
                "member_points",
                "plants",
                "community_profiles",
            )
        }


def test_the_documented_example_imports_and_a_second_import_changes_nothing(engine):
    with Session(engine) as session:
        first = import_manifest(session, load(example()))
    assert first.created["member"] == 8 and first.created["device"] == 16 and first.created["plant"] == 5
    before = counts(engine)
    with Session(engine) as session:
        second = import_manifest(session, load(example()))
    assert not second.changed and second.unchanged["device"] == 16
    assert counts(engine) == before


def test_an_edit_updates_only_what_changed(engine):
    data = example()
    with Session(engine) as session:
        import_manifest(session, load(data))
    data["members"][0]["substation"] = "AC001E00002"
    data["plants"][0]["substation"] = "AC001E00002"
    data["plants"][0]["pnrr_grant_pct"] = 10
    with Session(engine) as session:
        report = import_manifest(session, load(data))
        assert dict(report.updated) == {"member_point": 1, "plant": 1}
        assert not report.created
        plant = session.exec(select(Plant).where(Plant.ref == data["plants"][0]["id"])).one()
        assert (plant.substation, plant.pnrr_grant_bps) == ("AC001E00002", 1_000)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d["members"][2].update(podd="x"), "members[2].podd: is not a field of the manifest"),
        (lambda d: d["community"].pop("zone"), "community.zone: is required"),
        (lambda d: d["community"].update(zone="MARS"), "community.zone: must be one of NORD, CNOR, CSUD"),
        (lambda d: d["members"][1].update(account="0x12"), "members[1].account: must have at least 42 characters"),
        (
            lambda d: d["devices"][0].update(member="0x" + "1" * 40),
            "devices[0].member: 0x1111111111111111111111111111111111111111 is not in members",
        ),
        (
            lambda d: d["devices"][0].update(flows=["dso-production-15min"]),
            "devices[0].flows[0]: dso-production-15min carries production",
        ),
        (
            lambda d: d["plants"][0].update(substation="AC009"),
            "plants[0].substation: AC009 differs from its member's substation",
        ),
        (
            lambda d: d["plants"][0].update(pnrr_grant_pct=41),
            "plants[0].pnrr_grant_pct: must be at most 40",
        ),
        (
            lambda d: d["flows"][1].update(accountconsumption="consumption"),
            "flows[1].accountconsumption: a production flow cannot count as consumption",
        ),
        (
            lambda d: d["plants"][2].update(new_plant=False),  # with PV-008: 13 of 43.5 kW existing, 29.9 %: fine
            None,
        ),
        (
            lambda d: d["plants"][0].update(new_plant=False),  # with PV-008: 14.5 of 43.5 kW existing, 33.3 %
            "plants: plants in service before the community (new_plant false) total 14.5 kW, 33.3 % of the "
            "community's 43.5 kW: at most 30 %",
        ),
        (
            lambda d: d["devices"].append(dict(d["devices"][0])),
            "devices[16].id: IT001E00000001 is already devices[0].id",
        ),
    ],
)
def test_faults_are_refused_with_their_path(edit, problem):
    data = example()
    edit(data)
    if problem is None:
        load(data)
        return
    with pytest.raises(ManifestError) as refused:
        load(data)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_a_file_that_is_not_json_names_its_line():
    with pytest.raises(ManifestError, match=r"line 3, column 2: not valid JSON"):
        parse_manifest('{"community":\n {"chain_id": 1}\n,,}')


def test_nothing_is_half_written(engine):
    """A second community's manifest that would take a device of the first is refused whole: its community,
    members and every earlier device are not written either (one transaction)."""
    with Session(engine) as session:
        import_manifest(session, load(example()))
    before = counts(engine)
    other = example()
    other["community"].update(chain_id=2, name="Second LEC")
    other["devices"] = other["devices"][1:] + other["devices"][:1]  # the clash comes last
    for member in other["members"]:
        member["pod"] = "X" + member["pod"]
    with Session(engine) as session, pytest.raises(ManifestError, match="already a device of another community"):
        import_manifest(session, load(other))
    assert counts(engine) == before


def test_a_manifest_cannot_take_another_communitys_name(engine):
    with Session(engine) as session:
        import_manifest(session, load(example()))
    other = example()
    other["community"]["chain_id"] = 2
    with Session(engine) as session, pytest.raises(ManifestError, match="community 1 on chain, not 2"):
        import_manifest(session, load(other))


def test_a_wallet_bound_by_someone_else_keeps_its_user(engine):
    """A member whose wallet is already bound (the identity flow renamed its user) is updated, not duplicated:
    the cause of the demo's second-run failure (UNIQUE community_id, wallet)."""
    with Session(engine) as session:
        import_manifest(session, load(example()))
        membership = session.exec(select(UserCommunity)).first()
        assert membership is not None
        user_id = membership.user_id
        session.exec(sa.text("UPDATE users SET external_id = 'keycloak-subject' WHERE id = :i").bindparams(i=user_id))
        session.commit()
    with Session(engine) as session:
        report = import_manifest(session, load(example()))
        assert not report.changed
        assert len(session.exec(select(UserCommunity)).all()) == 8


def test_accountconsumption_flags_are_stored(engine):
    with Session(engine) as session:
        import_manifest(session, load(example()))
        flags = {link.flow_id: int(link.account_consumption) for link in session.exec(select(FlowCommunity))}
    assert sorted(flags.values()) == [0, 0, 0, 1, 2]


def test_fresh_clone_flow_import_ingest_incentive(engine, tmp_path):
    """Import the documented example, ingest its day of CSV, compute the incentive: the figures in
    docs/onboarding.md, with no simulator."""
    from oracle.ingest.files import ingest_file
    from oracle.ingest.store import load_catalogue

    with Session(engine) as session:
        import_manifest(session, load(example()))
    csv = tmp_path / READINGS.name
    shutil.copy(READINGS, csv)
    report = ingest_file(csv, engine, move=False, catalogue=load_catalogue(engine))
    assert len(report.rejected) == 0
    with Session(engine) as session:
        assert session.exec(select(sa.func.count()).select_from(CounterReading)).one() == 1440
        out = as_json(
            community_incentive(session, 1, date(2026, 5, 4), date(2026, 5, 4)), 1, date(2026, 5, 4), date(2026, 5, 4)
        )
    assert out["shared_kwh"] == 23.392
    assert (out["tip_eur"], out["valorisation_eur"], out["total_eur"]) == (2.89, 0.24, 3.13)
    assert (
        sum(m["cents"] for m in out["members"])
        + round(out["social_fund_eur"] * 100)
        + round(out["undistributed_eur"] * 100)
        == out["total_cents"]
    )
    assert [c["substation"] for c in out["configurations"]] == ["AC001E00001", "AC001E00002"]
    assert len(out["hourly_shared_kwh"]) == 24 and out["hours"][0] == "2026-05-03T22:00:00+00:00"


def test_the_cli_imports_and_says_when_nothing_changed(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    first = runner.invoke(lec, ["community", "import", str(EXAMPLE)])
    assert first.exit_code == 0, first.output
    assert "imported" in first.output and "8 member" in first.output
    again = runner.invoke(lec, ["community", "import", str(EXAMPLE), "--json"])
    assert json.loads(again.output)["changed"] is False
    bad = tmp_path / "bad.json"
    data = copy.deepcopy(example())
    data["members"][0]["pods"] = data["members"][0].pop("pod")
    bad.write_text(json.dumps(data))
    refused = runner.invoke(lec, ["community", "import", str(bad)])
    assert refused.exit_code == 1
    assert "members[0].pods: is not a field of the manifest" in refused.output
    assert "members[0].pod: is required" in refused.output
    assert "Traceback" not in refused.output


def test_devices_and_points_bound_to_the_community(engine):
    with Session(engine) as session:
        report = import_manifest(session, load(example()))
        devices = session.exec(select(Device).where(Device.community_id == report.community_id)).all()
        points = session.exec(select(MemberPoint)).all()
    assert len(devices) == 16 and {p.substation for p in points} == {"AC001E00001", "AC001E00002"}


def test_a_correction_after_the_report_is_held_for_review_not_paid(engine, tmp_path):
    """Readings re-sent with other values after the incentive was computed (a member inflating its injection, or a
    gateway's late correction) do not move the money: they are conflicting duplicates held as anomalies, and the
    report stays the same until the admin acts on them."""
    from oracle.ingest.files import ingest_file
    from oracle.ingest.store import load_catalogue

    with Session(engine) as session:
        import_manifest(session, load(example()))
    first = tmp_path / "day.csv"
    shutil.copy(READINGS, first)
    ingest_file(first, engine, move=False, catalogue=load_catalogue(engine))
    day = date(2026, 5, 4)
    with Session(engine) as session:
        before = as_json(community_incentive(session, 1, day, day), 1, day, day)
    inflated = tmp_path / "inflated.csv"
    inflated.write_text(
        "device,timestamp,energy_wh\n"
        + "".join(f"IT001E00000001P,2026-05-04T{h:02d}:00:00+02:00,-5000\n" for h in range(10, 15))
    )
    report = ingest_file(inflated, engine, move=False, catalogue=load_catalogue(engine))
    assert report.accepted == 0 and len(report.rejected) == 5
    assert {r.reason.value for r in report.rejected} == {"conflicting_duplicate"}
    with Session(engine) as session:
        after = as_json(community_incentive(session, 1, day, day), 1, day, day)
    assert after == before
