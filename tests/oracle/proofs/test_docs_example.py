"""The worked example of docs/proofs.md, recomputed: the page must never drift from the code."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np

from lec.calendar import period_start
from oracle.proofs.encoding import DATA_LEAF_ENCODING, MISSING, DeviceDay, data_leaf, encode_readings, imputed_mask
from oracle.proofs.merkle import StandardMerkleTree

DOC = Path(__file__).resolve().parents[3] / "docs" / "proofs.md"


def _documented(name: str) -> str:
    match = re.search(rf"{name}\s*=\s*`(0x[0-9a-f]{{64}})`", DOC.read_text())
    assert match, f"docs/proofs.md no longer states {name}"
    return match.group(1)


def test_worked_example_of_the_proofs_page():
    day = date(2026, 11, 25)
    values = np.full(96, 120, dtype=np.int64)
    values[0], values[1] = -250, MISSING
    imputed = np.zeros(96, dtype=bool)
    imputed[[2, 9]] = True
    salt = bytes([0x11]) * 32
    key, digest = data_leaf(salt, day, DeviceDay("IT001E12345678", values, imputed))
    assert key == _documented("deviceKey")
    assert digest == _documented("readingsHash")
    assert StandardMerkleTree.of([(key, digest)], DATA_LEAF_ENCODING).root == re.search(
        r"it is the root: `(0x[0-9a-f]{64})`", DOC.read_text()
    ).group(1)
    encoded = encode_readings(salt, 20261125, period_start(day), 900, values, imputed_mask(imputed))
    assert len(encoded) == 3360 and encoded[3328:3330] == bytes([0x04, 0x02])
