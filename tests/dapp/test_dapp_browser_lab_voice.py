"""In Chromium (living lab, docs/living-lab.md): the community admin writes a newsletter on the Messages page; a
member finds it unread in her inbox, marks it read, and leaves feedback on the Community voice page, where she
reads its tone; the admin sees it counted on the dashboard of the same page. Screenshots of both roles."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
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
    # the kind of message (a radio); "Newsletter" is also a category in the e-mail preferences' expander
    kinds = admin.get_by_test_id("stRadioGroup")
    kinds.locator("label").filter(has_text=t("lab.inbox.kind_newsletter", "it")).click()
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


def _seed_voice(demo_stack, realm) -> tuple[str, dict]:  # noqa: ANN001
    """What the voice page's sections read: one clustering (every member in one group, so alice is in a group of
    k or more), outside voices from the demo's shipped feed file, three texts that share a theme, this month's
    self-sufficiency objective. Returns this month (YYYY-MM) and the admin's headers."""
    from stack import lec

    from dapp.api.demo_lab import FEED_FILE, FEED_KEYWORDS
    from lec.calendar import ROME

    api = demo_stack.api_url
    lec(
        demo_stack.env,
        "oracle", "cluster", "--community", "1", "--from", demo_stack.first_day.isoformat(),
        "--to", demo_stack.last_day.isoformat(), "-k", "1",
    )  # fmt: skip
    lec(
        demo_stack.env,
        "lab",
        "feeds",
        "--file",
        str(FEED_FILE),
        "--community",
        "1",
        "--keywords",
        ",".join(FEED_KEYWORDS),
    )
    for who, text in (
        ("alice", "L'assemblea sul fotovoltaico è stata ottima."),
        ("alice", "Vorrei un'altra assemblea a gennaio."),
        ("bob", "Assemblea utile, grazie a tutti."),
    ):
        headers = {"Authorization": f"Bearer {realm.access_token(who, PASSWORD)}"}
        body = {"text": text, "rating": 4}
        requests.post(f"{api}/communities/1/feedback", json=body, headers=headers, timeout=30).raise_for_status()
    month = datetime.now(ROME).strftime("%Y-%m")
    carla = {"Authorization": f"Bearer {realm.access_token('carla', PASSWORD)}"}
    body = {"month": month, "target_pct": 30}
    requests.put(f"{api}/communities/1/objectives", json=body, headers=carla, timeout=30).raise_for_status()
    return month, carla


def row_shown_with_data(demo_stack, headers: dict) -> bool:  # noqa: ANN001
    rows = requests.get(f"{demo_stack.api_url}/communities/1/objectives/clusters", headers=headers, timeout=30).json()
    return bool(rows) and rows[0]["gaps"] is not None


def _wait_out_a_month_change(margin: timedelta = timedelta(minutes=5)) -> None:
    """The test seeds "this month" (Europe/Rome) and reads it back on the page a minute later: started in a month's
    last minutes (it once ran at 23:58 in Rome on 30 November), it waits for the next month first."""
    from lec.calendar import ROME

    now = datetime.now(ROME)
    if (now + margin).month != now.month:
        first = (now + margin).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        time.sleep((first - now).total_seconds() + 1)


def test_the_voice_pages_sections_and_a_groups_objective(dapp_url, demo_stack, realm, wallet_page, tmp_path):
    folder = Path(os.environ.get("LEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    _wait_out_a_month_change()
    month, carla = _seed_voice(demo_stack, realm)
    year, number = month.split("-")
    in_words = t(f"lab.month_{int(number)}", "it", year=year)  # "novembre 2026", never "2026-11"

    admin = wallet_page(0)
    admin.set_viewport_size({"width": 1400, "height": 1800})
    sign_in(admin, dapp_url, "carla", language="Italiano")
    _go(admin, "lab.voice.title")
    # The tone over time and the themes: "assemblea" is used by three texts (k = 3), so it is a theme.
    expect(admin.get_by_role("heading", name=t("lab.voice.trend", "it"))).to_be_visible(timeout=WAIT)
    expect(admin.get_by_role("heading", name=t("lab.voice.themes", "it"))).to_be_visible(timeout=WAIT)
    expect(admin.get_by_text(t("lab.voice.themes_help", "it", k=3))).to_be_visible(timeout=WAIT)
    # Outside voices from the shipped file: three of its four entries name a keyword, with their day (dd/mm/yyyy).
    expect(admin.get_by_role("heading", name=t("lab.voice.external", "it"))).to_be_visible(timeout=WAIT)
    expect(admin.get_by_text("Lavatrici nelle ore di sole: il calendario condiviso piace ai residenti")).to_be_visible()
    expect(admin.get_by_text("Il mercato rionale cambia orari")).to_have_count(0)
    expect(admin.get_by_text("12/11/2026 · Cronaca del quartiere (demo)", exact=False)).to_be_visible()
    # The month's self-sufficiency objective, its month in words.
    expect(admin.get_by_text(f"{in_words} · obiettivo 30 %", exact=False)).to_be_visible(timeout=WAIT)
    expect(admin.get_by_text(month + " ·", exact=False)).to_have_count(0)
    # The group's objective: the admin picks the group (named as on the member page) and the share in the sun hours.
    expect(admin.get_by_text(t("lab.voice.cobj_none_admin", "it"))).to_be_visible(timeout=WAIT)
    settle(admin)
    share = admin.get_by_label(t("lab.voice.cobj_pct", "it"))
    share.fill("60")
    share.press("Tab")
    expect(share).to_have_value("60")
    settle(admin)
    expect(admin.get_by_text("porta quella parte al 60 %", exact=False)).to_be_visible(timeout=WAIT)
    admin.get_by_role("button", name=t("lab.voice.cobj_set", "it"), exact=True).click()
    saved = t("lab.voice.cobj_saved", "it", month=in_words, pct="60")
    expect(admin.get_by_text(saved)).to_be_visible(timeout=WAIT)
    settle(admin)
    line = t("lab.voice.group_n", "it", n=1)
    expect(
        admin.get_by_text(f"{line} · {in_words} · consumi nelle ore di sole: obiettivo 60 %", exact=False)
    ).to_be_visible(timeout=WAIT)
    if row_shown_with_data(demo_stack, carla):  # the demo's days may all be in last month on the 1st
        expect(admin.get_by_text("L'ora con più consumo del voluto", exact=False)).to_be_visible(timeout=WAIT)
    expect(admin.get_by_test_id("stException")).to_have_count(0)
    admin.screenshot(path=str(folder / "community-admin-community-voice-objectives.png"), full_page=True)
    [row] = requests.get(f"{demo_stack.api_url}/communities/1/objectives/clusters", headers=carla, timeout=30).json()
    assert row["shown"] and row["members"] >= 3 and abs(row["target_pct"] - 60) <= 0.06

    # A member sees her group's objective with the same words, and no form to set one.
    member = wallet_page(1)
    member.set_viewport_size({"width": 1400, "height": 1600})
    sign_in(member, dapp_url, "alice", language="Italiano")
    _go(member, "lab.voice.title")
    expect(
        member.get_by_text(f"{line} · {in_words} · consumi nelle ore di sole: obiettivo 60 %", exact=False)
    ).to_be_visible(timeout=WAIT)
    expect(member.get_by_role("button", name=t("lab.voice.cobj_set", "it"))).to_have_count(0)
    expect(member.get_by_role("heading", name=t("lab.voice.themes", "it"))).to_have_count(0)  # the admin's dashboard
    expect(member.get_by_test_id("stException")).to_have_count(0)
    settle(member)
    expect(
        member.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').first
    ).to_be_visible(timeout=WAIT)  # the curves drawn, not their placeholder
    member.screenshot(path=str(folder / "member-community-voice-objectives.png"), full_page=True)
