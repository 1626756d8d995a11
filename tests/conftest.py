"""Session fixtures around the real services of tests.support.services, started only when a test asks for them:

- ``postgres_server``: a running PostgreSQL cluster (``.url(dbname)``, ``.create_database(name)``).
- ``postgres_url``: URL of a database ``lec_test`` on that server (SQLAlchemy form, psycopg 3 driver).
- ``make_postgres_db``: factory returning the URL of a fresh, empty database on each call.
- ``mosquitto_broker``: a Mosquitto 2 broker with the repo's ACL (oracle/ingest/mosquitto/acl), a password
  file, persistence on; ``.add_user(name, password)``, ``.restart()``, ``.host``, ``.port``. The oracle's
  bridge user ``lec-oracle`` exists with password ``mosquitto_broker.oracle_password``.
- ``keycloak_server``: the real Keycloak with the shipped realm, its mail going to ``keycloak_server.mail``
  (tests.support.keycloak). It is started once per run, in the background as soon as the tests are collected
  (it needs 40–130 s here), and the modules that use it run last, so other tests run while it starts; or, when
  LEC_TEST_KEYCLOAK names one already running (tests/mutation/keycloak.py), that one.

`make test` runs the tests on two pytest-xdist workers with ``--dist loadgroup --no-loadscope-reorder``: each
module is one group, so it stays on one worker and its module fixtures are set up once; the Spark tests are one
group (one Spark session and one lake world, tests/oracle/spark/conftest.py). The groups are handed out in the
order collected, so the Keycloak modules still come last: besides giving Keycloak time to start, that keeps the
browser tests after every test that runs its own asyncio loop (Playwright's sync API leaves the worker's main
thread marked as running one). Each worker starts its own Keycloak (its own mail sink; the tests recreate their
users by name, so two workers must not share one realm).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.keycloak import KeycloakServer
from tests.support.services import MosquittoBroker, PostgresServer, start_mosquitto, start_postgres

_KEYCLOAK = pytest.StashKey[KeycloakServer]()

# No per-example deadline unless a test sets one: Keycloak starts in the background while the first tests run, on
# a 2-core machine other runs share, so a deadline would measure the machine's load rather than the code.
settings.register_profile("lec", deadline=None)
settings.load_profile("lec")


SPARK_TESTS = Path(__file__).parent / "oracle" / "spark"


class _WorkerGroups:
    """The groups of ``--dist loadgroup``: a module each, the Spark tests together."""

    @pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook turns the marks into the scheduler's groups
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            group = "spark" if item.path.is_relative_to(SPARK_TESTS) else str(item.path)
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        config.pluginmanager.register(_WorkerGroups(), "lec-worker-groups")


@pytest.hookimpl(trylast=True)  # after -k / -m deselection: only the tests that will run count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    users = {item.path for item in items if "keycloak_server" in getattr(item, "fixturenames", ())}
    if not users or config.option.collectonly:
        return
    # Whole modules move, in their order, so module-scoped fixtures are still set up once.
    items[:] = [i for i in items if i.path not in users] + [i for i in items if i.path in users]
    config.stash[_KEYCLOAK] = KeycloakServer.for_tests()


def pytest_sessionfinish(session: pytest.Session) -> None:
    server = session.config.stash.get(_KEYCLOAK, None)
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def keycloak_server(pytestconfig: pytest.Config) -> KeycloakServer:
    server = pytestconfig.stash.get(_KEYCLOAK, None)
    if server is None:  # collected some other way (a plugin's own items): start it now
        server = pytestconfig.stash[_KEYCLOAK] = KeycloakServer.for_tests()
    return server.wait_ready().prepare()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        from lec.db.session import dispose_engines

        dispose_engines()
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("lec_test")


@pytest.fixture
def make_postgres_db(postgres_server: PostgresServer) -> Callable[[], str]:
    return postgres_server.fresh_database


@pytest.fixture(scope="session")
def mosquitto_broker() -> Iterator[MosquittoBroker]:
    broker = start_mosquitto()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.root, ignore_errors=True)
