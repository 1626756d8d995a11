"""Sign-in with Keycloak through Streamlit's native OIDC (`st.login`): with an `[auth]` section for the realm,
the button sends the browser to the realm's authorization endpoint as the `lec-dapp` client, with PKCE (S256)
and the dApp's callback. (The login form itself is Keycloak's: the local realm server does not serve it.)"""

from __future__ import annotations

import secrets
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from dapp_browser import wait_for
from playwright.sync_api import expect

from tests.support.ports import free_port
from tests.support.tools import ROOT

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]


@pytest.fixture
def oidc_dapp(realm, tmp_path):
    port = free_port()
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'expose_tokens = ["access"]\n'
        "[auth.keycloak]\n"
        'client_id = "lec-dapp"\n'
        'client_secret = ""\n'
        f'server_metadata_url = "{realm.issuer}/.well-known/openid-configuration"\n'
    )
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/streamlit"), "run", "dapp/app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--secrets.files", str(secrets_file),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/_stcore/health", timeout=1).ok, f"Streamlit at {url}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_keycloak_sign_in_goes_to_the_realm_with_pkce(oidc_dapp, realm, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        # The realm's login page is Keycloak's, not ours: the dApp's login redirect is fetched without following
        # it, its Location recorded, and the page answered here (a navigation left pending to the stand-in made
        # closing the context hang).
        redirects: list[str] = []

        def login(route):
            response = route.fetch(max_redirects=0)
            redirects.append(response.headers.get("location", ""))
            route.fulfill(status=200, content_type="text/html", body="<p>Keycloak login</p>")

        page.route(lambda url: "/auth/login" in url, login)
        page.goto(oidc_dapp)
        expect(page.get_by_text("Demo sign-in")).to_have_count(0)  # no demo identity unless asked for
        page.get_by_role("button", name="Sign in with Keycloak").click()
        expect(page.get_by_text("Keycloak login")).to_be_visible(timeout=30_000)
        assert len(redirects) == 1
        target = urlsplit(redirects[0])
        query = parse_qs(target.query)
        assert f"{target.scheme}://{target.netloc}{target.path}" == f"{realm.issuer}/protocol/openid-connect/auth"
        assert query["client_id"] == ["lec-dapp"] and query["response_type"] == ["code"]
        assert query["redirect_uri"] == [f"{oidc_dapp}/oauth2callback"]
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
        assert "openid" in query["scope"][0].split()
    finally:
        for page in context.pages:
            page.close(run_before_unload=False)
        context.close()
