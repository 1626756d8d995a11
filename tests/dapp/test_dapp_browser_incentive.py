"""In Chromium, as the community admin: the GSE incentive of the demo's week with its CSV export, and the
onboarding page — the demo's manifest previewed (nothing to change), a broken one refused with its path; as the
auditor: the incentive, and no onboarding page."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_dapp_browser_wallet import WAIT, settle, sign_in

from dapp.i18n import t

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "community-manifest.json"


def open_view(page: Page, nav_title: str, heading: str) -> None:
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_text(nav_title, exact=True).click()
    expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=WAIT)
    settle(page)


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("LEC_TEST_SHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_community_admin_computes_the_incentive_and_exports_it(dapp_url, demo_stack, wallet_page):
    page = wallet_page(0)
    sign_in(page, dapp_url, "carla", language="Italiano")
    open_view(page, t("incentive.title", "it"), t("incentive.title", "it"))
    page.get_by_role("button", name=t("incentive.compute", "it")).click()
    expect(page.get_by_text(t("incentive.members", "it"), exact=True)).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(t("incentive.tip", "it"), exact=True)).to_be_visible()
    expect(page.get_by_text(t("incentive.approx.single_price", "it", eur_mwh="100.00"))).to_be_visible()
    settle(page)
    shot(page, "incentive-community-admin")
    with page.expect_download() as download:
        page.get_by_role("button", name=t("incentive.download.members", "it")).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 8
    assert {"Wallet", "Euro"} <= set(rows[0])


def test_community_admin_previews_the_manifest_and_sees_faults_by_path(dapp_url, demo_stack, wallet_page, tmp_path):
    page = wallet_page(0)
    sign_in(page, dapp_url, "carla", language="Italiano")
    open_view(page, t("onboarding.title", "it"), t("onboarding.title", "it"))
    page.locator("input[type=file]").first.set_input_files(str(EXAMPLE))
    expect(page.get_by_text("Comunità 1 «Demo LEC»", exact=False)).to_be_visible(timeout=WAIT)
    settle(page)
    page.get_by_role("button", name=t("onboarding.preview", "it")).click()
    expect(page.get_by_text(t("onboarding.nothing", "it"))).to_be_visible(timeout=WAIT)
    shot(page, "onboarding-community-admin")
    broken = json.loads(EXAMPLE.read_text())
    broken["members"][0]["podd"] = broken["members"][0].pop("pod")
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(broken))
    page.locator("input[type=file]").first.set_input_files(str(bad))
    expect(page.get_by_text(t("onboarding.invalid", "it"))).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("members[0].podd: non è un campo del manifesto", exact=False)).to_be_visible()
    shot(page, "onboarding-faults")


def test_auditor_reads_the_incentive_but_has_no_onboarding(dapp_url, demo_stack, wallet_page):
    page = wallet_page(0)
    sign_in(page, dapp_url, "audrey", language="Italiano")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text(t("incentive.title", "it"), exact=True)).to_be_visible(timeout=WAIT)
    expect(nav.get_by_text(t("onboarding.title", "it"), exact=True)).to_have_count(0)
    open_view(page, t("incentive.title", "it"), t("incentive.title", "it"))
    page.get_by_role("button", name=t("incentive.compute", "it")).click()
    expect(page.get_by_text(t("incentive.members", "it"), exact=True)).to_be_visible(timeout=WAIT)
