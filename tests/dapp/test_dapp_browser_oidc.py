"""Sign-in with Keycloak through Streamlit's native OIDC (`st.login`): with an `[auth]` section for the realm,
the button sends the browser to the realm's authorization endpoint as the `lec-dapp` client, with PKCE (S256)
and the dApp's callback. (The login form itself is Keycloak's: the local realm server does not serve it.)"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from dapp_browser import free_port, wait_for
from playwright.sync_api import expect

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]


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
        page.goto(oidc_dapp)
        expect(page.get_by_text("Demo sign-in")).to_have_count(0)  # no demo identity unless asked for
        with page.expect_request(lambda r: "/protocol/openid-connect/auth" in r.url, timeout=30_000) as sent:
            page.get_by_role("button", name="Sign in with Keycloak").click()
        target = urlsplit(sent.value.url)
        query = parse_qs(target.query)
        assert f"{target.scheme}://{target.netloc}{target.path}" == f"{realm.issuer}/protocol/openid-connect/auth"
        assert query["client_id"] == ["lec-dapp"] and query["response_type"] == ["code"]
        assert query["redirect_uri"] == [f"{oidc_dapp}/oauth2callback"]
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
        assert "openid" in query["scope"][0].split()
    finally:
        context.close()
