"""In Chromium (living lab, docs/living-lab.md): the community admin writes a newsletter on the Messages page; a
member finds it unread in her inbox, marks it read, and leaves feedback on the Community voice page, where she
reads its tone; the admin sees it counted on the dashboard of the same page. Screenshots of both roles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from dapp_browser import PASSWORD
from playwright.sync_api import expect
from test_dapp_browser_wallet import WAIT, settle, sign_in

from dapp.i18n import t

pytestmark = pytest.mark.services


def _go(page, key: str) -> None:  # noqa: ANN001
    settle(page)
    expect(page.get_by_test_id("stSidebarNavViewButton")).to_have_count(0)  # every page listed, none folded
    page.get_by_test_id("stSidebarNav").get_by_text(t(key, "it"), exact=True).click()
    expect(page.get_by_role("heading", name=t(key, "it")).first).to_be_visible(timeout=WAIT)
    settle(page)


def test_admin_writes_member_reads_and_gives_feedback(dapp_url, demo_stack, realm, wallet_page, tmp_path):
    folder = Path(os.environ.get("LEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    api = demo_stack.api_url
    carla = {"Authorization": f"Bearer {realm.access_token('carla', PASSWORD)}"}

    admin = wallet_page(0)
    admin.set_viewport_size({"width": 1400, "height": 1600})
    sign_in(admin, dapp_url, "carla", language="Italiano")
    _go(admin, "lab.inbox.title")
    admin.locator("label").filter(has_text=t("lab.inbox.kind_newsletter", "it")).click()
    expect(admin.get_by_role("radio", name=t("lab.inbox.kind_newsletter", "it"))).to_be_checked(timeout=WAIT)
    settle(admin)
    subject = admin.get_by_label(t("lab.inbox.subject", "it"))
    subject.fill("Newsletter di dicembre")
    subject.press("Tab")
    expect(subject).to_have_value("Newsletter di dicembre")
    settle(admin)
    body = admin.get_by_label(t("lab.inbox.body", "it"))
    body.fill("Giovedì assemblea alle 18 in biblioteca.\nPortate le vostre idee.")
    body.press("Tab")
    settle(admin)
    admin.get_by_role("button", name=t("lab.inbox.send", "it"), exact=True).click()
    expect(admin.get_by_text("Messaggio inviato a")).to_be_visible(timeout=WAIT)
    settle(admin)
    expect(admin.get_by_text(t("lab.inbox.sent_title", "it"))).to_be_visible(timeout=WAIT)
    expect(admin.get_by_test_id("stException")).to_have_count(0)
    admin.screenshot(path=str(folder / "community-admin-messages.png"), full_page=True)

    page = wallet_page(1)
    page.set_viewport_size({"width": 1400, "height": 1600})
    sign_in(page, dapp_url, "alice", language="Italiano")
    _go(page, "lab.inbox.title")
    # The unread newsletter is shown open; marking it read folds it away and the unread count drops to 0.
    expect(page.get_by_text("Portate le vostre idee.")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stMetricValue")).to_have_text("1", timeout=WAIT)
    page.screenshot(path=str(folder / "member-messages.png"), full_page=True)
    settle(page)
    page.get_by_role("button", name=t("lab.inbox.mark_read", "it")).click()
    settle(page)
    expect(page.get_by_role("button", name=t("lab.inbox.mark_read", "it"))).to_have_count(0, timeout=WAIT)
    expect(page.get_by_test_id("stMetricValue")).to_have_text("0", timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0)

    _go(page, "lab.voice.title")
    text = page.get_by_label(t("lab.voice.text", "it"))
    text.fill("L'assemblea è stata molto utile, grazie!")
    text.press("Tab")
    expect(text).to_have_value("L'assemblea è stata molto utile, grazie!")
    settle(page)
    page.get_by_role("button", name=t("lab.voice.send", "it"), exact=True).click()
    expect(page.get_by_text("Il tono del tuo messaggio risulta positivo")).to_be_visible(timeout=WAIT)
    settle(page)
    expect(page.get_by_text(t("lab.voice.mine", "it"))).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("L'assemblea è stata molto utile, grazie!")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.screenshot(path=str(folder / "member-community-voice.png"), full_page=True)

    summary = requests.get(f"{api}/communities/1/feedback/summary", headers=carla, timeout=30).json()
    assert summary["positive"] >= 1
    _go(admin, "lab.voice.title")
    expect(admin.get_by_text(t("lab.voice.dashboard", "it"))).to_be_visible(timeout=WAIT)
    expect(admin.get_by_text("L'assemblea è stata molto utile, grazie!")).to_be_visible(timeout=WAIT)
    expect(admin.get_by_test_id("stException")).to_have_count(0)
    admin.screenshot(path=str(folder / "community-admin-community-voice.png"), full_page=True)
