"""Real services started by the test suite: PostgreSQL 15 and Mosquitto, each on a free port in a temp dir.

Fixtures (session-scoped, started only when a test asks for them):
- ``postgres_server``: a running PostgreSQL cluster (``.url(dbname)``, ``.create_database(name)``).
- ``postgres_url``: URL of a database ``lec_test`` on that server (SQLAlchemy form, psycopg 3 driver).
- ``make_postgres_db``: factory returning the URL of a fresh, empty database on each call.
- ``mosquitto_broker``: a Mosquitto 2 broker with the repo's ACL (oracle/ingest/mosquitto/acl), a password
  file, persistence on; ``.add_user(name, password)``, ``.restart()``, ``.host``, ``.port``. The oracle's
  bridge user ``lec-oracle`` exists with password ``mosquitto_broker.oracle_password``.
"""

from __future__ import annotations

import itertools
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MOSQUITTO_ACL = ROOT / "oracle" / "ingest" / "mosquitto" / "acl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str, log: Path | None) -> None:
    # Readiness poll with a generous ceiling: this is service start-up, not a timed assertion.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            detail = log.read_text() if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting:\n{detail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not accept connections on port {port} within 60 s.")


def _find_pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} is not installed; run `make setup` (Debian package postgresql).")
    return str(candidates[0])


# ---- PostgreSQL ----------------------------------------------------------------------------------------


@dataclass
class PostgresServer:
    port: int
    datadir: Path
    run_as: list[str]
    pg_ctl: str = "pg_ctl"
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.datadir), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(self.datadir.parent, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def fresh_database(self) -> str:
        return self.create_database(f"lec_{os.getpid()}_{next(self._counter)}")


def start_postgres(durable: bool = False) -> PostgresServer:
    """initdb + pg_ctl start in a temp dir on a free port. `durable=False` turns fsync off (tests only)."""
    initdb, pg_ctl = _find_pg_bin("initdb"), _find_pg_bin("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="lec-pg-"))
    datadir = root / "data"
    # initdb refuses to run as root: as root, the cluster belongs to the `postgres` system user.
    run_as: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, initdb, "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = root / "postgres.log"
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(datadir), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
        check=True,
        capture_output=True,
    )
    server = PostgresServer(port=port, datadir=datadir, run_as=run_as, pg_ctl=pg_ctl)
    _wait_for_port(port, None, "PostgreSQL", log)
    return server


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


# ---- Mosquitto -----------------------------------------------------------------------------------------


@dataclass
class MosquittoBroker:
    host: str
    port: int
    root: Path
    oracle_username: str = "lec-oracle"
    oracle_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    process: subprocess.Popen[bytes] | None = None
    _users: dict[str, str] = field(default_factory=dict)

    @property
    def password_file(self) -> Path:
        return self.root / "passwd"

    @property
    def config_file(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def log_file(self) -> Path:
        return self.root / "mosquitto.log"

    def add_user(self, username: str, password: str) -> None:
        """Add or change a user; the running broker reloads its password file on SIGHUP."""
        self.add_users({username: password})

    def add_users(self, users: dict[str, str]) -> None:
        """Add or change several users with one reload (users already set to that password are skipped)."""
        changed = {u: p for u, p in users.items() if self._users.get(u) != p}
        if not changed:
            return
        for username, password in changed.items():
            create = [] if self.password_file.exists() else ["-c"]
            subprocess.run(["mosquitto_passwd", *create, "-b", str(self.password_file), username, password], check=True)
            self._users[username] = password
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGHUP)
            # The reload is asynchronous; a connection with the new credentials proves it happened.
            username, password = next(reversed(changed.items()))
            self._wait_until_login(username, password)

    def _wait_until_login(self, username: str, password: str) -> None:
        import paho.mqtt.client as mqtt

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            client.username_pw_set(username, password)
            try:
                client.connect(self.host, self.port)
                client.loop_start()
                for _ in range(100):
                    if client.is_connected():
                        return
                    time.sleep(0.02)
            except OSError:
                pass
            finally:
                client.loop_stop()
                client.disconnect()
            time.sleep(0.05)
        raise RuntimeError(f"Mosquitto did not accept user {username!r} after reloading its password file.")

    def start(self) -> None:
        self.config_file.write_text(
            "\n".join(
                [
                    "user root",  # as root, read the files of this private temp dir
                    "per_listener_settings false",
                    "allow_anonymous false",
                    f"password_file {self.password_file}",
                    f"acl_file {MOSQUITTO_ACL}",
                    f"listener {self.port} {self.host}",
                    "persistence true",
                    f"persistence_location {self.root}/",
                    "persistent_client_expiration 1d",
                    "max_queued_messages 1000000",
                    "max_inflight_messages 1000",
                    f"log_dest file {self.log_file}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config_file)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_port(self.port, self.process, "Mosquitto", self.log_file)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGTERM makes Mosquitto write its persistence file, so queued QoS 1 messages survive.
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def start_mosquitto() -> MosquittoBroker:
    """A running broker on a free port with the repo's ACL and the bridge's user; `.stop()` ends it."""
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        raise RuntimeError(
            "Mosquitto is not installed; run `make setup` (Debian packages mosquitto, mosquitto-clients)."
        )
    root = Path(tempfile.mkdtemp(prefix="lec-mqtt-"))
    broker = MosquittoBroker(host="127.0.0.1", port=free_port(), root=root)
    broker.add_user(broker.oracle_username, broker.oracle_password)
    broker.start()
    return broker


@pytest.fixture(scope="session")
def mosquitto_broker() -> Iterator[MosquittoBroker]:
    broker = start_mosquitto()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.root, ignore_errors=True)
