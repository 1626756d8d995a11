"""A long-lived Node process answering with @openzeppelin/merkle-tree, the reference implementation."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
NODE_MODULES = ROOT / "tools" / "node_modules"


class OzReference:
    def __init__(self) -> None:
        env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
        self._proc = subprocess.Popen(
            ["node", str(Path(__file__).with_name("oz_tree.js"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)


@pytest.fixture(scope="session")
def oz() -> Iterator[OzReference]:
    if shutil.which("node") is None or not (NODE_MODULES / "@openzeppelin" / "merkle-tree").is_dir():
        pytest.fail("Node and tools/node_modules/@openzeppelin/merkle-tree are required: run `make setup`.")
    ref = OzReference()
    yield ref
    ref.close()
