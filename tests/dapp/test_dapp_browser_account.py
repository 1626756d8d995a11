"""End to end in Chromium, a newcomer's own account: registration on Keycloak's own registration page (the
verification mail's link opened), the join request sent from the dApp, the wallet bound by Sign-In with Ethereum
in the (injected) wallet, then the account deleted — nothing personal left in the database or in Keycloak,
while the chain still verifies the community's notarised rewards."""

from __future__ import annotations

import secrets

import pytest
import requests
from dapp_browser import PASSWORD, SIGN_IN, pick_language
from playwright.sync_api import expect
from test_dapp_browser_wallet import WAIT, connect_on_lec_network, open_page, settle

from tests.support.mail import link

pytestmark = [pytest.mark.services, pytest.mark.timeout(600)]

NEWCOMER_WALLET = 9  # anvil's last account: not a member of the demo community


@pytest.mark.skip(
    reason="unfinished: the registration link lacked PKCE, so Keycloak sent the browser straight back to the dApp's "
    "Home (fixed: dapp/views/signin.py now sends an S256 challenge and the registration page opens); Keycloak "
    "26.7.3's registration form then shows no password fields in the test realm (its `passwordRequired` is not "
    "set: to investigate the realm's registration flow), so the steps after it were not run yet"
)
def test_register_join_bind_and_delete(dapp_url, demo_chain, demo_stack, realm, wallet_page):
    from sqlmodel import Session, select

    from lec.db.models import RegistrationRequest, User, UserCommunity
    from lec.db.session import get_engine

    username = f"nina{secrets.token_hex(3)}"
    email = f"{username}@example.org"
    page = wallet_page(NEWCOMER_WALLET)
    page.goto(dapp_url)
    settle(page)
    # Keycloak's own registration page, reached from the dApp's Home (Italian by default).
    register = page.get_by_role("link", name="Crea un account")
    page.goto(str(register.get_attribute("href")))  # the link opens a new tab; the test stays in this one
    expect(page.get_by_role("heading", name="Register")).to_be_visible(timeout=WAIT)
    assert page.url.startswith(realm.issuer())  # Keycloak's page, not the dApp's Home (the PKCE challenge is there)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Nuova")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.goto(link(realm.mail.wait_for(email)))  # the verification mail's link, opened in the same browser
    proceed = page.get_by_role("link", name="Click here to proceed")
    if proceed.count():
        proceed.click()
    page.goto(dapp_url)
    settle(page)
    page.get_by_role("button", name=SIGN_IN, exact=True).click()  # Keycloak's session: no password again
    expect(page.get_by_role("button", name="Esci")).to_be_visible(timeout=WAIT)
    settle(page)
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
