"""Writing and reading a network folder. Private keys are created with mode 0600 and never overwritten."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

from lec.besu.layout import FileSpec

DEFAULT_DIR = Path("besu-network/generated")


def write_files(root: Path, files: dict[str, FileSpec], replace: frozenset[str] = frozenset()) -> list[Path]:
    """Writes `files` under `root`. A file that exists is an error unless its path is in `replace` (and a
    secret is never replaced), so a second run cannot silently destroy node keys."""
    for rel, spec in files.items():
        path = root / rel
        if path.exists() and (rel not in replace or spec.secret):
            raise FileExistsError(
                f"{path} already exists: choose another --out folder, or delete the old network first "
                "(its keys are lost with it)."
            )
    written = []
    for rel, spec in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if spec.secret:
            # O_EXCL with 0600 from the start: the key is never readable by others, not even briefly.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(spec.content)
            os.chmod(path, 0o600)
        else:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(spec.content)
            tmp.replace(path)
        written.append(path)
    return written


def read_summary(root: Path) -> dict:
    path = root / "network.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `lec besu init --out {root}` first.")
    return json.loads(path.read_text())


def read_permissions(root: Path, node: str) -> dict:
    path = root / "nodes" / node / "permissions_config.toml"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: the network folder is incomplete.")
    return tomllib.loads(path.read_text())
