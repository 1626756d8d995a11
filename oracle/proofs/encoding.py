"""Canonical encodings of DESIGN §5.7: the salted device-day commitment and the community aggregates.

Everything is Solidity's ``abi.encode`` so that an auditor can recompute it with web3 alone. The int64
arrays are encoded with numpy (one 32-byte two's-complement word per value) because eth_abi's generic
encoder costs about a millisecond per device-day; ``tests/oracle/proofs`` checks both agree.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import numpy as np

from lec.calendar import STEP_SECONDS, period_id, period_start, quarter_hours
from oracle.proofs.merkle import keccak

# A quarter hour that stays missing after cleaning (a gap of 6 h or more) is committed as this sentinel:
# the leaf records that nothing was measured, and no energy is ever counted for it.
MISSING = -(2**63)
DATA_LEAF_ENCODING = ["bytes32", "bytes32"]
REWARD_LEAF_ENCODING = ["address", "uint256"]


def new_salt() -> bytes:
    """A fresh random 32-byte salt (consumption values have low entropy; unsalted they could be guessed)."""
    return secrets.token_bytes(32)


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big", signed=value < 0)


def encode_int64_array(values: np.ndarray) -> bytes:
    """The tail of ``abi.encode(int64[])``: the length word then one sign-extended word per value."""
    arr = np.asarray(values, dtype=">i8")
    words = np.zeros((arr.size, 32), dtype=np.uint8)
    words[:, 24:] = arr.view(np.uint8).reshape(-1, 8)
    words[arr < 0, :24] = 0xFF
    return _word(arr.size) + words.tobytes()


def imputed_mask(imputed: np.ndarray) -> bytes:
    """Bit k (byte k // 8, bit k % 8 counted from the least significant) is set when value k was imputed."""
    flags = np.asarray(imputed, dtype=bool)
    return np.packbits(flags, bitorder="little").tobytes()


def _encode_bytes_tail(data: bytes) -> bytes:
    padded = data + b"\x00" * (-len(data) % 32)
    return _word(len(data)) + padded


def encode_readings(salt: bytes, period: int, start: int, step: int, values: np.ndarray, mask: bytes) -> bytes:
    """``abi.encode(bytes32 salt, uint256 periodId, uint256 start, uint256 step, int64[] values, bytes mask)``."""
    if len(salt) != 32:
        raise ValueError(f"A salt has 32 bytes, got {len(salt)}.")
    values_tail = encode_int64_array(values)
    head = salt + _word(period) + _word(start) + _word(step) + _word(6 * 32) + _word(6 * 32 + len(values_tail))
    return head + values_tail + _encode_bytes_tail(mask)


def device_key(salt: bytes, device_id: str) -> bytes:
    """``keccak256(abi.encode(salt, deviceId))``: the device's pseudonym in one period's data tree."""
    if len(salt) != 32:
        raise ValueError(f"A salt has 32 bytes, got {len(salt)}.")
    # abi.encode(bytes32, string): the salt, the offset of the string (64), then its length and bytes.
    return keccak(salt + _word(64) + _encode_bytes_tail(device_id.encode("utf-8")))


def readings_hash(salt: bytes, period: int, start: int, step: int, values: np.ndarray, mask: bytes) -> bytes:
    return keccak(encode_readings(salt, period, start, step, values, mask))


@dataclass(frozen=True)
class DeviceDay:
    """One device's cleaned readings for one period, ready to be committed."""

    device_id: str
    values: np.ndarray  # int64 Wh per quarter hour, report's sign convention, MISSING where unknown
    imputed: np.ndarray  # bool per quarter hour


def data_leaf(salt: bytes, day: date, device: DeviceDay) -> tuple[str, str]:
    """The data-tree leaf ``(deviceKey, readingsHash)`` as 0x-hex strings."""
    n = quarter_hours(day)
    if device.values.size != n or device.imputed.size != n:
        raise ValueError(
            f"Device {device.device_id} has {device.values.size} values for {day}, which has {n} quarter hours."
        )
    key = device_key(salt, device.device_id)
    digest = readings_hash(
        salt, period_id(day), period_start(day), STEP_SECONDS, device.values, imputed_mask(device.imputed)
    )
    return "0x" + key.hex(), "0x" + digest.hex()


AGGREGATE_TYPES = ["uint256", "int64[]", "int64[]", "int64[]", "int64[]", "int64[]", "uint256"]


def encode_aggregates(
    period: int,
    load: np.ndarray,
    production: np.ndarray,
    hourly_shared: np.ndarray,
    hourly_injection: np.ndarray,
    hourly_withdrawal: np.ndarray,
    uncapped_total: int,
) -> bytes:
    """``abi.encode(uint256 periodId, int64[] communityLoad, int64[] communityProduction, int64[] hourlyShared,
    int64[] hourlyInjection, int64[] hourlyWithdrawal, uint256 uncappedTotal)``.

    DESIGN §5.7's four fields come first; the hourly injection and withdrawal totals ``I(h)``, ``W(h)`` and
    the sum of rewards before the budget cap follow, because a member's share of shared energy and a capped
    reward cannot be recomputed from ``S(h)`` alone.
    """
    arrays = (load, production, hourly_shared, hourly_injection, hourly_withdrawal)
    tails = [encode_int64_array(a) for a in arrays]
    head_size = len(AGGREGATE_TYPES) * 32
    offsets = [head_size + sum(len(t) for t in tails[:i]) for i in range(len(tails))]
    head = _word(period) + b"".join(_word(o) for o in offsets) + _word(uncapped_total)
    return head + b"".join(tails)


def aggregates_hash(
    period: int,
    load: np.ndarray,
    production: np.ndarray,
    hourly_shared: np.ndarray,
    hourly_injection: np.ndarray,
    hourly_withdrawal: np.ndarray,
    uncapped_total: int,
) -> str:
    """The community aggregates' commitment published with the period, as 0x-hex."""
    encoded = encode_aggregates(
        period, load, production, hourly_shared, hourly_injection, hourly_withdrawal, uncapped_total
    )
    return "0x" + keccak(encoded).hex()
