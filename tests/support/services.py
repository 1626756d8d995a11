"""Real services for the tests and the benchmarks: PostgreSQL 15 and Mosquitto 2, each on a free loopback port
in a temp dir of its own. `start_postgres()` and `start_mosquitto()` return a running server; `.stop()` ends it.

- `PostgresServer`: `.url(dbname)`, `.create_database(name)`, `.fresh_database()` (a new empty database each call).
- `MosquittoBroker`: the repository's ACL (oracle/ingest/mosquitto/acl), a password file, persistence on;
  `.add_user(name, password)`, `.restart()`, `.host`, `.port`. The oracle's bridge user `lec-oracle` exists with
  password `.oracle_password`.
"""

from __future__ import annotations

import itertools
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.tools import ROOT

MOSQUITTO_ACL = ROOT / "oracle" / "ingest" / "mosquitto" / "acl"


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
    wait_for_port(port, None, "PostgreSQL", log)
    return server


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
        wait_for_port(self.port, self.process, "Mosquitto", self.log_file)

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
