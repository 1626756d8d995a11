"""The two verifiers as the tests run them on bundle files: tools/verifier (JavaScript, in one batch) and the
check `lec verify` names as failed in its output."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.support.tools import ROOT

VERIFY_JS = ROOT / "tools" / "verifier" / "verify.mjs"


def js_verdicts(paths: Sequence[Path], rpc: str, *options: str, timeout: float = 300) -> list[dict]:
    """tools/verifier's `--json` line for each bundle file, in the order given (`options`: e.g. `--period`)."""
    node = shutil.which("node")
    assert node, "node is missing: Node 20 is needed for tools/verifier"
    js = subprocess.run(
        [node, str(VERIFY_JS), *map(str, paths), *options, "--rpc", rpc, "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [json.loads(line) for line in js.stdout.splitlines()]
    assert len(lines) == len(paths), js.stderr
    if len(paths) > 1:  # one bundle alone is reported without its name
        assert [line["bundle"] for line in lines] == list(map(str, paths)), js.stderr
    return lines


def lec_failed_check(output: str) -> str | None:
    """The check `lec verify` reports as failed in its output, None when it names none."""
    if "failed at check '" not in output:
        return None
    return output.split("failed at check '", 1)[1].split("'", 1)[0]
