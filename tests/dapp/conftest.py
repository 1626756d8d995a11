"""Real services for the dApp's tests, each started here on a free port and stopped at teardown: anvil at
chain id 1981 with the platform deployed and seeded by the lead's ape scripts, the real Keycloak of the test run
(tests/conftest.py) with the demo users, `streamlit run dapp/app.py` signing in with `st.login` against it, and
Debian's Chromium driven by Playwright with an injected wallet."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from dapp_browser import PASSWORD, wait_for
from web3 import Web3

from tests.support.anvil import anvil
from tests.support.keycloak import KeycloakServer
from tests.support.ports import free_port
from tests.support.tools import ROOT, tool_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Demo users created in the realm for the tests: (username, realm roles, anvil account index of their wallet)
USERS = {
    "alice": (("token-holder",), 1),
    "bob": (("token-holder",), 2),
    "carla": (("community-admin", "token-holder"), 0),
    "oscar": (("oracle-admin",), 0),
    "tina": (("token-admin",), 0),
    "audrey": (("auditor",), 9),
    "dora": (("flexibility-buyer",), None),  # a grid operator's staff: no wallet, no community
}


@dataclass(frozen=True)
class DemoChain:
    url: str
    deployments_dir: Path
    deployments: dict
    w3: Web3

    @property
    def community(self) -> dict:
        return self.deployments["communities"][0]

    def account(self, index: int) -> str:
        return self.w3.eth.accounts[index]


@pytest.fixture(scope="session")
def demo_chain(tmp_path_factory) -> Iterator[DemoChain]:
    """anvil (chain 1981, free gas) with `ape run deploy` and `ape run seed` applied."""
    with anvil() as url:
        w3 = Web3(Web3.HTTPProvider(url))
        deployments_dir = tmp_path_factory.mktemp("deployments")
        # The seed writes the demo's listings into SQLite under LEC_DATA_DIR: a private folder, never data/.
        seed_data = tmp_path_factory.mktemp("seed-data")
        env = tool_env(LEC_DEPLOYMENTS_DIR=str(deployments_dir), LEC_DATA_DIR=str(seed_data), LEC_RPC_URL=url)
        env.pop("DATABASE_URL", None)
        for script in ("deploy", "seed"):
            result = subprocess.run(
                ["ape", "run", script, "--network", url], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            if result.returncode != 0:
                raise RuntimeError(f"ape run {script} failed:\n{result.stdout}\n{result.stderr}")
        deployments = json.loads((deployments_dir / "1981.json").read_text())
        yield DemoChain(url=url, deployments_dir=deployments_dir, deployments=deployments, w3=w3)


@pytest.fixture(scope="session")
def realm(keycloak_server: KeycloakServer) -> KeycloakServer:
    """The test run's Keycloak with the demo users of USERS (password PASSWORD)."""
    for username, (roles, _wallet) in USERS.items():
        keycloak_server.add_user(username, PASSWORD, roles=list(roles), first_name=username.title(), last_name="Demo")
    return keycloak_server


def dapp_secrets(realm: KeycloakServer, url: str, folder: Path) -> Path:
    """The dApp's `[auth]` section for `st.login` with the realm's `lec-dapp` client (what `make demo` writes), and
    the dApp's address added to that client's redirect and post-logout URIs (the shipped realm knows port 8501)."""
    admin = realm.admin()
    client_id = admin.get_client_id("lec-dapp")
    client = admin.get_client(client_id)
    logout_uris = client["attributes"].get("post.logout.redirect.uris", "")
    admin.update_client(
        client_id,
        {
            "redirectUris": sorted({*client["redirectUris"], f"{url}/*"}),
            "webOrigins": sorted({*client["webOrigins"], url}),
            "attributes": {"post.logout.redirect.uris": f"{logout_uris}##{url}/*".strip("#")},
        },
    )
    path = folder / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'expose_tokens = ["access"]\n'
        "[auth.keycloak]\n"
        'client_id = "lec-dapp"\n'
        'client_secret = ""\n'
        f'server_metadata_url = "{realm.issuer()}/.well-known/openid-configuration"\n'
    )
    return path


def streamlit(port: int, env: dict[str, str], log: Path, secrets_file: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [
                str(ROOT / ".venv/bin/streamlit"), "run", "dapp/app.py", "--server.port", str(port),
                "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal",
                "--secrets.files", str(secrets_file),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


@pytest.fixture(scope="session")
def dapp_url(demo_stack, realm: KeycloakServer, tmp_path_factory) -> Iterator[str]:
    """`streamlit run dapp/app.py` against the demo (chain, API), signing in with `st.login` on the realm."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("streamlit")
    proc = streamlit(port, dict(demo_stack.env), folder / "streamlit.log", dapp_secrets(realm, url, folder))
    try:
        wait_for(lambda: requests.get(f"{url}/_stcore/health", timeout=1).ok, f"Streamlit at {url}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's Chromium is missing: run `make setup` (apt-get install chromium).")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


PROVIDER_JS = (Path(__file__).parent / "eip1193_provider.js").read_text()


@pytest.fixture
def wallet_page(browser, demo_chain: DemoChain):
    """A factory of browser tabs whose injected wallet holds anvil account `index` and forwards to anvil."""
    contexts = []

    def open_tab(index: int, reject: tuple[str, ...] = ()):
        config = {
            "rpcUrl": demo_chain.url,
            "account": demo_chain.account(index),
            "chainIdHex": hex(1981),
            "reject": list(reject),
        }
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(PROVIDER_JS.replace("__LEC_CONFIG__", json.dumps(config)))
        contexts.append(context)
        return context.new_page()

    yield open_tab
    for n, context in enumerate(contexts):
        if os.environ.get("LEC_TEST_SHOTS"):  # debugging aid: the last state of every tab
            for i, page in enumerate(context.pages):
                page.screenshot(path=f"{os.environ['LEC_TEST_SHOTS']}/context{n}-tab{i}.png", full_page=True)
        context.close()


@pytest.fixture(scope="session")
def demo_stack(demo_chain: DemoChain, realm: KeycloakServer, tmp_path_factory):
    """The demo data behind the API: a simulated week, its last day run, notarised and claimed; the API up."""
    from stack import Stack, bind_demo_users, build_data, stack_env, start_api

    env = stack_env(
        tool_env(LEC_DEPLOYMENTS_DIR=str(demo_chain.deployments_dir), LEC_RPC_URL=demo_chain.url),
        tmp_path_factory.mktemp("lec-data"),
    )
    first, last = build_data(env)
    bind_demo_users(env["DATABASE_URL"], realm, USERS)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    settings = {k: env[k] for k in SETTINGS}
    with pytest.MonkeyPatch.context() as patch:  # only while starting: see `_demo_settings` for the tests
        for key, value in settings.items():
            patch.setenv(key, value)
        server, thread = start_api(env, realm, port)
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok, f"the API at {url}")
        # The community admin refreshes the daily read model, as after any bulk import.
        admin = {"Authorization": f"Bearer {realm.access_token('carla', PASSWORD)}"}
        body = {"start": first.isoformat(), "end": last.isoformat()}
        requests.post(f"{url}/communities/1/kpis/refresh", json=body, headers=admin, timeout=60).raise_for_status()
    try:
        yield Stack(
            api_url=url,
            env={**env, "LEC_API_URL": url},
            first_day=first,
            last_day=last,
            settings={**settings, "LEC_API_URL": url},
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# The platform's settings (environment variables) of the demo: set for each test that uses the demo, and
# never left behind for the other areas' tests that run later in the same pytest process.
SETTINGS = ("LEC_DATA_DIR", "DATABASE_URL", "LEC_DEPLOYMENTS_DIR", "LEC_RPC_URL", "LEC_ORACLE_PRIVATE_KEY")


@pytest.fixture(autouse=True)
def _demo_settings(request, monkeypatch):
    if "demo_stack" in request.fixturenames:
        for key, value in request.getfixturevalue("demo_stack").settings.items():
            monkeypatch.setenv(key, value)
        # The pages' chain client is cached for the process (`st.cache_resource`); one an earlier test made (the
        # oracle's tests run first when Keycloak starts in the background) points at that test's node.
        from dapp.views import common

        common.chain.clear()
