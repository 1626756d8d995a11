"""End to end in Chromium (living lab, docs/living-lab.md): the community admin opens a poll; a member signs her
ballot in the injected wallet (EIP-712, no transaction); the poll closes and its tally and ballots root are
notarised; `lec verify` accepts the public bundle and rejects one with a changed ballot; the member sees on her
page that her ballot is counted."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from dapp_browser import PASSWORD, pick_language
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlmodel import Session
from test_dapp_browser_wallet import WAIT, connect_on_lec_network, open_page, settle, sign_in

from dapp.api.main import create_app
from dapp.i18n import t
from lec.db.models import LabPoll
from lec.settings import Settings
from oracle.audit.cli import verify_command
from tests.support.anvil import KEYS

pytestmark = pytest.mark.services


def test_member_signs_a_ballot_and_sees_it_counted(dapp_url, demo_chain, demo_stack, realm, wallet_page, tmp_path):
    api = demo_stack.api_url
    carla = {"Authorization": f"Bearer {realm.access_token('carla', PASSWORD)}"}
    now = datetime.now(UTC)
    body = {
        "question": "Dove mettiamo le nuove rastrelliere per le bici?",
        "options": ["Piazza", "Scuola", "Biblioteca"],
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
    }
    poll = requests.post(f"{api}/communities/1/polls", json=body, headers=carla, timeout=30).json()
    opened = requests.post(f"{api}/communities/1/polls/{poll['id']}/open", headers=carla, timeout=30)
    assert opened.status_code == 200, opened.text

    page = wallet_page(1)
    page.set_viewport_size({"width": 1400, "height": 2000})
    sign_in(page, dapp_url, "alice")
    open_page(page, "Wallet")
    connect_on_lec_network(page)
    settle(page)
    pick_language(page, "Italiano")  # the poll is read and signed in Italian, as a resident does
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(t("lab.polls.title", "it"), exact=True).click()
    expect(page.get_by_role("heading", name="Votazioni")).to_be_visible(timeout=WAIT)
    settle(page)
    page.locator("label").filter(has_text="Biblioteca").click()
    expect(page.get_by_role("radio", name="Biblioteca")).to_be_checked(timeout=WAIT)
    settle(page)
    page.get_by_role("button", name="Firma la scheda nel wallet").click()
    expect(page.get_by_text("Il tuo voto per «Biblioteca» è stato registrato")).to_be_visible(timeout=WAIT)

    # The voting window ends; the admin closes the poll (through an API holding the community admin's key).
    with Session(create_engine(demo_stack.env["DATABASE_URL"])) as s:
        row = s.get(LabPoll, poll["id"])
        assert row is not None
        row.ends_at = datetime.now(UTC) - timedelta(seconds=1)
        s.add(row)
        s.commit()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        keycloak_url=realm.url,
        client_secret=SecretStr(realm.client_secret("lec-api")),
        database_url=demo_stack.env["DATABASE_URL"],
        rpc_url=demo_stack.env["LEC_RPC_URL"],
        deployments_dir=Path(demo_stack.env["LEC_DEPLOYMENTS_DIR"]),
        community_admin_private_key=SecretStr(KEYS[0]),
    )
    with TestClient(create_app(settings)) as admin_api:
        closed = admin_api.post(f"/api/v1/communities/1/polls/{poll['id']}/close", headers=carla)
    assert closed.status_code == 200, closed.text
    assert closed.json()["counts"] == [0, 0, 1] and closed.json()["tx_hash"]

    bundle = requests.get(f"{api}/communities/1/polls/{poll['id']}/bundle", headers=carla, timeout=30).json()
    path = tmp_path / "poll.json"
    path.write_text(json.dumps(bundle))
    accepted = CliRunner().invoke(verify_command, [str(path), "--rpc", demo_chain.url])
    assert accepted.exit_code == 0 and "All checks hold" in accepted.output, accepted.output
    key, choice = bundle["leaves"][0]
    bundle["leaves"][0] = [key, str((int(choice) + 1) % 3)]
    path.write_text(json.dumps(bundle))
    rejected = CliRunner().invoke(verify_command, [str(path), "--rpc", demo_chain.url])
    assert rejected.exit_code != 0 and "FAIL leaves" in rejected.output

    page.reload()
    settle(page)
    expect(page.get_by_role("heading", name="Votazioni")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Verifica che il mio voto sia stato contato").first.click()
    expect(page.get_by_text("Il tuo voto («Biblioteca») è tra quelli contati")).to_be_visible(timeout=WAIT)
    folder = Path(os.environ.get("LEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(folder / "member-polls.png"), full_page=True)


def test_member_joins_a_project_and_admin_sees_the_statistics(dapp_url, demo_stack, realm, wallet_page, tmp_path):
    api = demo_stack.api_url
    carla = {"Authorization": f"Bearer {realm.access_token('carla', PASSWORD)}"}
    body = {
        "title": "Bici cargo condivisa",
        "description": "Una bici cargo per la via, prenotabile dai vicini.",
        "kind": "sharing",
        "capacity": 10,
        "expected_benefits": "Meno auto per le consegne brevi",
    }
    created = requests.post(f"{api}/communities/1/projects", json=body, headers=carla, timeout=30)
    assert created.status_code == 201, created.text
    folder = Path(os.environ.get("LEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    page = wallet_page(1)
    page.set_viewport_size({"width": 1400, "height": 1600})
    sign_in(page, dapp_url, "alice", language="Italiano")
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(t("lab.projects.title", "it"), exact=True).click()
    expect(page.get_by_role("heading", name="Progetti di quartiere")).to_be_visible(timeout=WAIT)
    settle(page)
    page.get_by_role("button", name="Partecipa").first.click()
    expect(page.get_by_text("Ora partecipi al progetto.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Partecipanti: 1 su 10 posti")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(folder / "member-projects.png"), full_page=True)

    admin = wallet_page(0)
    admin.set_viewport_size({"width": 1400, "height": 1600})
    sign_in(admin, dapp_url, "carla", language="Italiano")
    settle(admin)
    admin.get_by_test_id("stSidebarNav").get_by_text(t("lab.projects.title", "it"), exact=True).click()
    expect(admin.get_by_role("heading", name="Progetti di quartiere")).to_be_visible(timeout=WAIT)
    expect(admin.get_by_text("Tasso di adesione")).to_be_visible(timeout=WAIT)
    expect(admin.get_by_role("button", name="Conferma")).to_be_visible(timeout=WAIT)
    settle(admin)
    expect(admin.get_by_test_id("stException")).to_have_count(0)
    admin.screenshot(path=str(folder / "community-admin-projects.png"), full_page=True)
