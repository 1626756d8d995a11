"""The commands as an operator runs them: `lec oracle simulate`, `lec oracle db-upgrade`, `lec oracle mqtt`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from data_world import build_world

from lec.db.migrate import alembic_config
from lec.db.session import get_engine, init_db
from oracle.cli import oracle


def test_simulate_and_db_upgrade_commands(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LEC_DEPLOYMENTS_DIR", str(tmp_path / "none"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgraded = CliRunner().invoke(oracle, ["db-upgrade", "--database-url", url])
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()  # raises if the line branched
    assert upgraded.exit_code == 0 and f"is at revision {head}" in upgraded.output
    result = CliRunner().invoke(
        oracle, ["simulate", "--members", "3", "--days", "1", "--start", "2026-06-01", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "Community 1: 3 members" in result.output and "generated wallets" in result.output
    with get_engine(url).connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM counterreading").scalar_one() > 3 * 96
    bad = CliRunner().invoke(oracle, ["simulate", "--start", "1 June", "--database-url", url])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_mqtt_command_bridges_until_interrupted(mosquitto_broker: Any, tmp_path: Path) -> None:
    import paho.mqtt.client as mqtt

    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    world = build_world(init_db(get_engine(url)))
    pod = world.pods["load"]
    mosquitto_broker.add_users({pod: "cli-pw"})
    env = {
        **os.environ,
        "LEC_MQTT_PASSWORD": mosquitto_broker.oracle_password,
        "DATABASE_URL": url,
        "LEC_MQTT_PORT": str(mosquitto_broker.port),
    }
    bridge = subprocess.Popen(
        [str(Path(sys.executable).with_name("lec")), "oracle", "mqtt"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    answers: list[dict] = []
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="cli-device", protocol=mqtt.MQTTv5)
    device.username_pw_set(pod, "cli-pw")
    device.on_message = lambda c, u, m: answers.append(json.loads(m.payload))
    try:
        device.connect(mosquitto_broker.host, mosquitto_broker.port)
        device.loop_start()
        device.subscribe(f"lec/{world.community_id}/{pod}/feedback", qos=1)
        reading = {"timestamp": "2026-02-01T00:00:00Z", "energy_wh": 12.0}
        # The bridge may still be starting: resend (a no-op once stored) until it answers.
        for _ in range(600):
            if answers:
                break
            if bridge.poll() is not None:
                raise AssertionError(f"The bridge exited early:\n{bridge.stdout.read() if bridge.stdout else ''}")
            device.publish(f"lec/{world.community_id}/{pod}/readings", json.dumps(reading), qos=1)
            time.sleep(0.1)
    finally:
        device.loop_stop()
        device.disconnect()
        bridge.send_signal(signal.SIGINT)
        output, _ = bridge.communicate(timeout=60)
    assert answers and answers[0]["accepted"] + answers[0]["duplicates"] == 1
    assert "Bridging mqtt://" in output and "Stopped after storing 1 readings." in output
    with get_engine(url).connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM counterreading")).scalar_one() == 1
