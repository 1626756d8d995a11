"""End to end in Chromium, a newcomer's own account: registration on Keycloak's own registration page (the
verification mail's link opened), the join request sent from the dApp, the wallet bound by Sign-In with Ethereum
in the (injected) wallet, then the account deleted — nothing personal left in the database or in Keycloak,
while the chain still verifies the community's notarised rewards."""

from __future__ import annotations

import os
import re
import secrets

import pytest
import requests
from dapp_browser import PASSWORD, SIGN_IN, pick_language
from playwright.sync_api import expect
from test_dapp_browser_wallet import WAIT, bridge, connect_on_lec_network, open_page, settle

from dapp.i18n import t
from tests.support.mail import link

pytestmark = [pytest.mark.services, pytest.mark.timeout(600)]

NEWCOMER_WALLET = 9  # anvil's last account: not a member of the demo community


def shot(page, name: str) -> None:
    folder = os.environ.get("LEC_TEST_SHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_register_join_bind_and_delete(dapp_url, demo_chain, demo_stack, realm, wallet_page):
    from sqlmodel import Session, select

    from lec.db.models import RegistrationRequest, User, UserCommunity
    from lec.db.session import get_engine

    username = f"nina{secrets.token_hex(3)}"
    email = f"{username}@example.org"
    page = wallet_page(NEWCOMER_WALLET)
    page.goto(dapp_url)
    settle(page)
    # The Home says what happens (Italian by default), then Keycloak's own registration page, in Italian too.
    expect(page.get_by_text(t("home.register_help", "it"))).to_be_visible(timeout=WAIT)
    shot(page, "register-1-home")
    register = page.get_by_role("link", name=t("home.register", "it"))
    page.goto(str(register.get_attribute("href")))  # the link opens a new tab; the test stays in this one
    expect(page.get_by_role("heading", name="Registrati")).to_be_visible(timeout=WAIT)
    assert page.url.startswith(realm.issuer())  # Keycloak's page, not the dApp's Home (the PKCE challenge is there)
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^\s*Nome[\s*]*$")).fill("Nina")
    page.get_by_label("Cognome").fill("Nuova")
    # The realm verifies e-mail addresses, so Keycloak asks for the password only once the mailed link is opened:
    # nobody can register someone else's address with a password of their own.
    expect(page.locator("input[type=password]")).to_have_count(0)
    shot(page, "register-2-keycloak-form")
    page.get_by_role("button", name="Registrati").click()
    expect(page.get_by_role("heading", name="Verifica l'email")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text(email)).to_be_visible()
    shot(page, "register-3-check-your-mail")
    message = realm.mail.wait_for(email)
    assert "Verifica" in str(message["Subject"])  # the mail in the language the newcomer used
    page.goto(link(message))  # the verification mail's link, opened in the same browser
    expect(page.get_by_role("heading", name="Scegli la password")).to_be_visible(timeout=WAIT)
    expect(page.get_by_text("Scegli la password con cui accederai")).to_be_visible()  # not "change your password"
    page.get_by_label("Nuova password").fill(PASSWORD)
    page.get_by_label("Conferma password").fill(PASSWORD)
    shot(page, "register-4-choose-password")
    page.get_by_role("button", name="Invia").click()
    page.wait_for_url(lambda url: not url.startswith(realm.issuer()), timeout=WAIT)  # Keycloak sends them back
    account = realm.user(username)
    assert account is not None and account["emailVerified"] and not account.get("requiredActions")
    page.goto(dapp_url)
    settle(page)
    page.get_by_role("button", name=SIGN_IN, exact=True).click()  # Keycloak's session: no password again
    expect(page.get_by_role("button", name="Esci")).to_be_visible(timeout=WAIT)
    settle(page)
    open_page(page, t("account.title", "it"))
    expect(page.get_by_role("button", name=t("account.join_send", "it"))).to_be_visible(timeout=WAIT)
    expect(bridge(page)).to_have_text(t("wallet.bridge_found", "it"), timeout=WAIT)  # the wallet's status too
    settle(page)
    shot(page, "register-5-my-account")
    pick_language(page, "English")
    settle(page)

    # The join request, then the wallet bound by signing the Sign-In with Ethereum message.
    open_page(page, "My account")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Request sent to").first).to_be_visible(timeout=WAIT)
    open_page(page, "Wallet")
    connect_on_lec_network(page)
    open_page(page, "My account")
    page.get_by_role("button", name="Bind this wallet by signing in MetaMask").click()
    expect(page.get_by_text("Wallet bound").first).to_be_visible(timeout=WAIT)
    assert "personal_sign" in page.evaluate("window.__lecWallet.log")
    subject = realm.user(username)["id"]
    engine = get_engine(demo_stack.env["DATABASE_URL"])
    with Session(engine) as session:
        user = session.exec(select(User).where(User.external_id == subject)).one()
        request = session.exec(select(RegistrationRequest).where(RegistrationRequest.user_id == user.id)).one()
        assert request.wallet == demo_chain.account(NEWCOMER_WALLET) and user.email == email
        user_id = user.id

    # The account deleted: the page says what goes and what stays, and asks for confirmation first.
    open_page(page, "My account")
    expect(page.get_by_text("What stays on chain:")).to_be_visible(timeout=WAIT)
    delete = page.get_by_role("button", name="Delete my account")
    expect(delete).to_be_disabled()
    page.get_by_text("I have read what is deleted and what stays").click()
    settle(page)
    delete.click()
    page.wait_for_timeout(3000)  # signed out through Keycloak, whose account no longer exists
    page.goto(dapp_url)
    settle(page)
    expect(page.get_by_role("button", name=SIGN_IN, exact=True)).to_be_visible(timeout=WAIT)
    assert realm.user(username) is None  # the Keycloak account is gone
    with Session(engine) as session:
        assert session.get(User, user_id) is None
        assert not session.exec(select(RegistrationRequest).where(RegistrationRequest.user_id == user_id)).all()
        assert not session.exec(select(UserCommunity).where(UserCommunity.user_id == user_id)).all()
    # The chain still verifies: an auditor checks a member's notarised reward, untouched by the deletion.
    auditor = {"Authorization": f"Bearer {realm.access_token('audrey', PASSWORD)}"}
    day = int(demo_stack.last_day.strftime("%Y%m%d"))
    bundle = requests.get(
        f"{demo_stack.api_url}/communities/1/periods/{day}/bundle",
        params={"account": demo_chain.account(1)},
        headers=auditor,
        timeout=60,
    )
    bundle.raise_for_status()
    verdict = requests.post(f"{demo_stack.api_url}/verify", json={"bundle": bundle.json()}, headers=auditor, timeout=60)
    assert verdict.json()["ok"], verdict.text
