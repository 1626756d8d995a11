"""Every page as each role sees it, rendered in Chromium on the demo. With `LEC_SCREENSHOTS=<folder>` (the
`screenshots` make target) the pictures are saved there for the README; without it they go to a temporary
folder. Either way each page must render its title and no exception."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_dapp_browser_wallet import WAIT, choose, connect_on_lec_network, open_page, settle, sign_in

pytestmark = pytest.mark.services

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil account 1, the demo's first member

# (role shown in the file name, demo user, wallet account, pages)
TOURS = [
    (
        "member",
        "alice",
        1,
        ["Home", "My energy", "Wallet", "Time bank", "My account", "Flexibility", "Neighbourhood projects", "Polls"],
    ),
    (
        "community-admin",
        "carla",
        0,
        [
            "Community dashboard",
            "Members and tasks",
            "GSE incentive and split",
            "Community onboarding",
            "Flexibility",
            "Neighbourhood projects",
        ],
    ),
    ("oracle-admin", "oscar", 0, ["Reward models"]),
    ("token-admin", "tina", 0, ["Token policy"]),
    ("auditor", "audrey", 9, ["Audit a bundle"]),
]


# The README's shorter names for some pages' pictures.
FILE_NAMES = {"Neighbourhood projects": "projects"}


def slug(text: str) -> str:
    return FILE_NAMES.get(text, text).lower().replace(" ", "-")


@pytest.mark.parametrize(("role", "username", "wallet", "titles"), TOURS, ids=[t[0] for t in TOURS])
def test_every_page_renders_for_its_role(dapp_url, wallet_page, tmp_path, role, username, wallet, titles):
    folder = Path(os.environ.get("LEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page = wallet_page(wallet)
    page.set_viewport_size({"width": 1400, "height": 2400})  # Streamlit scrolls inside the page: show it all
    sign_in(page, dapp_url, username)
    if "Wallet" in titles or role in ("oracle-admin", "token-admin"):
        open_page(page, "Wallet")
        connect_on_lec_network(page)
    for title in titles:
        if title == "Home":
            page.get_by_test_id("stSidebarNav").get_by_text("Home", exact=True).click()
            expect(page.get_by_role("heading", name="Local Energy Community")).to_be_visible(timeout=WAIT)
        else:
            open_page(page, title)
        if title == "Audit a bundle":  # the auditor's job, done in the browser: pick Alice by name, verify her bundle
            choose(page, "Member", "Alice ")
            page.get_by_role("button", name="Fetch the bundle").click()
            settle(page)
            page.get_by_role("button", name="Run the verification").click()
            expect(page.get_by_text("Every check passed")).to_be_visible(timeout=WAIT)
        if title == "Token policy":  # the README shows the sale to a stakeholder, with the rate and receipts
            page.get_by_role("tab", name="Sell to a stakeholder").click()
            expect(page.get_by_text("Payment receipt reference")).to_be_visible(timeout=WAIT)
        # The picture is taken once the script run is over and the charts have drawn (not a test of speed).
        expect(page.locator('[data-test-script-state="notRunning"]')).to_have_count(1, timeout=WAIT)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        page.screenshot(path=str(folder / f"{slug(role)}-{slug(title)}.png"), full_page=True)


def test_member_page_at_phone_width(dapp_url, wallet_page, tmp_path):
    """At 390×844 the sidebar closes after navigating and the wallet's status is on the page itself."""
    folder = Path(os.environ.get("LEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page = wallet_page(1)
    sign_in(page, dapp_url, "alice")
    open_page(page, "Wallet")
    connect_on_lec_network(page)
    page.set_viewport_size({"width": 390, "height": 844})
    settle(page)
    expand = page.get_by_test_id("stExpandSidebarButton")
    if expand.is_visible():
        expand.click()
    page.get_by_test_id("stSidebarNav").get_by_text("My energy", exact=True).click()
    expect(page.get_by_role("heading", name="My energy").first).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true", timeout=WAIT)
    expect(page.get_by_text("· LEC network").first).to_be_visible(timeout=WAIT)
    settle(page)
    page.wait_for_timeout(1500)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(folder / "member-phone.png"), full_page=False)
