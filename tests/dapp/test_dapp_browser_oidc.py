"""Signing in to the dApp with the real Keycloak, in Debian's Chromium: the dApp's button sends the browser to the
realm's authorization endpoint (the `lec-dapp` client, authorization code with PKCE S256, the dApp's callback),
the person types the password on Keycloak's own page and comes back signed in, with the pages of their role; a
wrong password gets Keycloak's own error; signing out ends the dApp's session and Keycloak's (the next visit asks
for the password again); a session longer than the access token renews it through Keycloak without the password.

The person has not picked a language, so the dApp speaks Italian (its default): every text below is the
translation table's Italian. With `LEC_TEST_SHOTS=<folder>` each step's picture is kept there."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from dapp_browser import PASSWORD, keycloak_login
from playwright.sync_api import Page, expect
from test_dapp_browser_wallet import WAIT, open_page, settle

from dapp.app import visible_pages
from dapp.i18n import t
from tests.support.keycloak import KeycloakServer, claims_of

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]

ROLES = {"alice": {"token-holder"}, "carla": {"community-admin", "token-holder"}, "audrey": {"auditor"}}
# The navigation each role must see (which pages a role has is tested in test_dapp_pages.py; here, that the
# browser shows exactly those after Keycloak's sign-in, from the roles in Keycloak's token).
NAV = {
    user: {t("home.nav", "it")} | {t(p.key, "it") for p in visible_pages(frozenset(roles))}
    for user, roles in ROLES.items()
}
SIGN_IN, SIGN_OUT = t("signin.sign_in", "it"), t("signin.sign_out", "it")
MY_ENERGY, TOKENS = t("member.title", "it"), t("member.tokens", "it")
# A page of the role that reads the API with the token from Keycloak, and what it shows when the API accepted it.
WORK = {"alice": (MY_ENERGY, TOKENS), "carla": (t("dashboard.title", "it"), t("dashboard.last_week", "it"))}


@pytest.fixture
def tab(browser, tmp_path):
    """A fresh browser (no cookies: neither the dApp's nor Keycloak's) and a way to keep pictures of it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    folder = Path(os.environ.get("LEC_TEST_SHOTS") or tmp_path)

    def shot(name: str) -> None:
        page.screenshot(path=str(folder / f"signin-{name}.png"), full_page=True)

    try:
        yield page, shot
    finally:
        context.close()


ALL_TITLES = set().union(*NAV.values())


def nav_titles(page: Page) -> set[str]:
    nav = page.get_by_test_id("stSidebarNav")
    return {title for title in ALL_TITLES if nav.get_by_text(title, exact=True).count()}


def start_sign_in(page: Page, dapp_url: str, realm: KeycloakServer) -> dict[str, list[str]]:
    """Clicks the dApp's sign-in button; returns the query of the authorization request it sent the browser to."""
    page.goto(dapp_url)
    settle(page)
    with page.expect_request(lambda r: "/protocol/openid-connect/auth" in r.url, timeout=WAIT) as request:
        page.get_by_role("button", name=SIGN_IN, exact=True).click()
    target = urlsplit(request.value.url)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{realm.issuer()}/protocol/openid-connect/auth"
    expect(page.get_by_label("Username or email")).to_be_visible(timeout=WAIT)  # Keycloak's page, not ours
    assert page.url.startswith(realm.issuer())
    return parse_qs(target.query)


@pytest.mark.parametrize("username", ["alice", "carla"])
def test_sign_in_on_keycloaks_page_shows_the_pages_of_the_role(dapp_url, realm, tab, username):
    page, shot = tab
    page.goto(dapp_url)
    settle(page)
    shot(f"{username}-0-home")
    query = start_sign_in(page, dapp_url, realm)
    assert query["client_id"] == ["lec-dapp"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{dapp_url}/oauth2callback"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert "openid" in query["scope"][0].split()
    shot(f"{username}-1-keycloak-login")

    keycloak_login(page, username, PASSWORD)
    expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible(timeout=WAIT)
    settle(page)
    expect(page.get_by_role("heading", name=t("home.welcome", "it", name=f"{username.title()} Demo"))).to_be_visible(
        timeout=WAIT
    )
    assert nav_titles(page) == NAV[username]
    shot(f"{username}-2-signed-in")
    title, shown = WORK[username]
    open_page(page, title)  # the API accepts the token the dApp got from Keycloak
    expect(page.get_by_text(shown).first).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    shot(f"{username}-3-{title.lower().replace(' ', '-')}")


def test_a_wrong_password_gets_keycloaks_error(dapp_url, realm, tab):
    page, shot = tab
    start_sign_in(page, dapp_url, realm)
    keycloak_login(page, "alice", "not the password")
    expect(page.get_by_text("Invalid username or password.")).to_be_visible(timeout=WAIT)
    assert page.url.startswith(realm.issuer())  # still on Keycloak's page, nothing reached the dApp
    shot("wrong-password")
    keycloak_login(page, "alice", PASSWORD)  # the form stays usable: the right password now signs in
    expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible(timeout=WAIT)


def test_signing_out_ends_the_dapps_session_and_keycloaks(dapp_url, realm, tab):
    page, shot = tab
    audrey = realm.user("audrey")
    assert audrey is not None
    # Other tests may have left Audrey signed in elsewhere (another browser): this browser's session is the new one.
    before = {s["id"] for s in realm.sessions(audrey["id"])}
    start_sign_in(page, dapp_url, realm)
    keycloak_login(page, "audrey", PASSWORD)
    expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible(timeout=WAIT)
    settle(page)
    assert nav_titles(page) == NAV["audrey"]
    ours = {s["id"] for s in realm.sessions(audrey["id"]) if "lec-dapp" in s["clients"].values()} - before
    assert len(ours) == 1

    with page.expect_request(lambda r: "/protocol/openid-connect/logout" in r.url, timeout=WAIT) as logout:
        page.get_by_role("button", name=SIGN_OUT).click()
    sent = parse_qs(urlsplit(logout.value.url).query)
    assert sent["client_id"] == ["lec-dapp"] and sent["id_token_hint"] and sent["post_logout_redirect_uri"]
    expect(page.get_by_role("button", name=SIGN_IN, exact=True)).to_be_visible(timeout=WAIT)
    assert page.url.startswith(dapp_url)
    # Keycloak's session is over, not only the dApp's cookie.
    assert ours.isdisjoint(s["id"] for s in realm.sessions(audrey["id"]))
    shot("signed-out")

    # The next visit asks for the password again.
    start_sign_in(page, dapp_url, realm)
    shot("asked-again")


def test_a_long_session_renews_its_token_through_keycloak_without_the_password(dapp_url, realm, tab):
    """The dApp's tokens live 20 s here (5 minutes in the shipped realm); past two thirds of that, the next click
    goes through Keycloak, which answers at once from its own session, and the pages keep working."""
    page, shot = tab
    admin = realm.admin()
    client_id = admin.get_client_id("lec-dapp")
    admin.update_client(client_id, {"attributes": {"access.token.lifespan": "20"}})
    try:
        start_sign_in(page, dapp_url, realm)
        keycloak_login(page, "alice", PASSWORD)
        expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible(timeout=WAIT)
        settle(page)
        signed_in_at = time.time()
        time.sleep(max(0.0, signed_in_at + 15 - time.time()))
        with page.expect_request(lambda r: "/protocol/openid-connect/auth" in r.url, timeout=WAIT):
            page.get_by_test_id("stSidebarNav").get_by_text(MY_ENERGY, exact=True).click()
        expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible(timeout=WAIT)
        expect(page.get_by_label("Username or email")).to_have_count(0)  # no password asked
        open_page(page, MY_ENERGY)
        expect(page.get_by_text(TOKENS)).to_be_visible(timeout=WAIT)
        expect(page.get_by_text("expired")).to_have_count(0)
        shot("renewed")
    finally:
        admin.update_client(client_id, {"attributes": {"access.token.lifespan": ""}})


def test_keycloak_tokens_carry_what_the_dapp_reads(realm):
    """The realm's `lec-dapp` scopes: roles in the access token (the dApp chooses pages from it), names, e-mail."""
    claims = claims_of(realm.access_token("carla", PASSWORD))
    assert {"community-admin", "token-holder"} <= set(claims["realm_access"]["roles"])
    assert claims["preferred_username"] == "carla" and claims["name"] == "Carla Demo"
    assert claims["email"] == "carla@example.org" and "lec-api" in claims["aud"]
