"""Session fixtures around the real services of tests.support.services, started only when a test asks for them:

- ``postgres_server``: a running PostgreSQL cluster (``.url(dbname)``, ``.create_database(name)``).
- ``postgres_url``: URL of a database ``lec_test`` on that server (SQLAlchemy form, psycopg 3 driver).
- ``make_postgres_db``: factory returning the URL of a fresh, empty database on each call.
- ``mosquitto_broker``: a Mosquitto 2 broker with the repo's ACL (oracle/ingest/mosquitto/acl), a password
  file, persistence on; ``.add_user(name, password)``, ``.restart()``, ``.host``, ``.port``. The oracle's
  bridge user ``lec-oracle`` exists with password ``mosquitto_broker.oracle_password``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

from tests.support.services import MosquittoBroker, PostgresServer, start_mosquitto, start_postgres


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
