"""The repository's root and the environment in which the project's command-line tools run as child processes."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tool_env(**extra: str) -> dict[str, str]:
    """This process's environment for a child that runs `ape`, `lec`, `streamlit` or `anvil`: the venv's and the
    npm tools' folders first on PATH, and ape's and py-solc-x's state inside the project (as the Makefile sets
    them), plus `extra`."""
    env = dict(os.environ)
    env.update(APE_DATA_FOLDER=str(ROOT / ".ape"), SOLCX_BINARY_PATH=str(ROOT / ".solcx"), **extra)
    env["PATH"] = f"{ROOT / '.venv/bin'}:{ROOT / 'tools/node_modules/.bin'}:{env['PATH']}"
    return env
