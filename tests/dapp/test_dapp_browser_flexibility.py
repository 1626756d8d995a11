"""In Chromium, the Flexibility page: the community admin sees the demo's demand-response event (asked by the demo
buyer, 12 kW committed to six members) and sets the community's asking price; the buyer, in another tab, then
reads the new price with the aggregated offer, and neither the events nor the price form."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect
from test_dapp_browser_wallet import WAIT, open_page, settle, sign_in

from dapp.i18n import t

pytestmark = pytest.mark.services


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("LEC_TEST_SHOTS")
    if folder:
        settle(page)
        page.wait_for_timeout(1000)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_community_admin_sees_the_demo_event_and_sets_a_price(dapp_url, demo_stack, wallet_page):
    page = wallet_page(0)
    page.set_viewport_size({"width": 1400, "height": 2000})
    sign_in(page, dapp_url, "carla")
    open_page(page, t("flex.title", "en"))
    expect(page.get_by_text(t("flex.intro_admin", "en"))).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("heading", name=t("flex.events.community", "en"))).to_be_visible(timeout=WAIT)
    # The demo event's row: who asked, from when to when (Rome time), what was asked and committed, to how many.
    row = page.get_by_test_id("stTable").locator("tbody tr")
    expect(row).to_have_count(1, timeout=WAIT)
    cells = row.first.locator("th, td")
    expect(cells).to_have_text(
        [re.compile(r"\d\d/\d\d/\d{4} 18:00"), "19:00", "lec-flex-buyer-demo", "12", "12", "6", "Accepted"]
    )
    expect(page.get_by_test_id("stMetricValue")).to_have_text(t("flex.price.value", "en", price="0.25"))  # the demo's
    expect(page.get_by_text("quarter hours published", exact=False)).to_be_visible()
    settle(page)
    field = page.get_by_label(t("flex.price.set", "en"))
    field.fill("0.40")
    expect(field).to_have_value("0.40")
    page.get_by_role("button", name=t("flex.price.submit", "en")).click()
    expect(page.get_by_text(t("flex.price.done", "en", price="0.40"))).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stMetricValue")).to_have_text(t("flex.price.value", "en", price="0.40"), timeout=WAIT)
    shot(page, "flexibility-community-admin")

    buyer = wallet_page(9)
    buyer.set_viewport_size({"width": 1400, "height": 1600})
    sign_in(buyer, dapp_url, "dora")
    open_page(buyer, t("flex.title", "en"))
    expect(buyer.get_by_text(t("flex.intro_buyer", "en"))).to_be_visible(timeout=WAIT)
    expect(buyer.get_by_test_id("stMetricValue")).to_have_text(t("flex.price.value", "en", price="0.40"), timeout=WAIT)
    settle(buyer)
    expect(buyer.get_by_role("heading", name=t("flex.events.community", "en"))).to_have_count(0)
    expect(buyer.get_by_role("button", name=t("flex.price.submit", "en"))).to_have_count(0)
    expect(buyer.get_by_test_id("stException")).to_have_count(0)
    shot(buyer, "flexibility-buyer")
