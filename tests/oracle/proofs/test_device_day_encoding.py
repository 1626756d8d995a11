"""Device-day commitments and aggregates: byte-exact against eth_abi, and any changed byte changes them."""

from __future__ import annotations

import os
from datetime import date

import numpy as np
import pytest
from eth_abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from lec.calendar import period_day, period_id, period_start, quarter_hours
from oracle.proofs.encoding import (
    AGGREGATE_TYPES,
    MISSING,
    DeviceDay,
    aggregates_hash,
    data_leaf,
    device_key,
    encode_aggregates,
    encode_readings,
    imputed_mask,
    readings_hash,
)
from oracle.proofs.merkle import keccak

int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(int64s, min_size=0, max_size=100),
    flags=st.lists(st.booleans(), min_size=0, max_size=100),
    salt=st.binary(min_size=32, max_size=32),
    period=st.integers(0, 2**64),
)
def test_readings_encoding_is_abi_encode(values, flags, salt, period):
    mask = imputed_mask(np.array(flags, dtype=bool))
    ours = encode_readings(salt, period, 1_795_561_200, 900, np.array(values, dtype=np.int64), mask)
    reference = encode(
        ["bytes32", "uint256", "uint256", "uint256", "int64[]", "bytes"],
        [salt, period, 1_795_561_200, 900, values, mask],
    )
    assert ours == reference


@settings(max_examples=40, deadline=None)
@given(lists=st.lists(st.lists(int64s, max_size=30), min_size=5, max_size=5), total=st.integers(0, 2**256 - 1))
def test_aggregates_encoding_is_abi_encode(lists, total):
    arrays = [np.array(x, dtype=np.int64) for x in lists]
    assert encode_aggregates(20261125, *arrays, total) == encode(AGGREGATE_TYPES, [20261125, *lists, total])


def test_mask_bits_are_least_significant_first():
    flags = np.zeros(100, dtype=bool)
    flags[[0, 9, 99]] = True
    mask = imputed_mask(flags)
    assert len(mask) == 13 and mask[0] == 0b1 and mask[1] == 0b10 and mask[12] == 0b1000


def test_period_ids_and_local_midnights():
    assert period_id(date(2026, 11, 25)) == 20261125 and period_day(20261125) == date(2026, 11, 25)
    assert period_start(date(2026, 11, 25)) == 1_795_561_200  # 2026-11-24T23:00:00Z
    assert period_start(date(2026, 7, 1)) % 3600 == 0 and (period_start(date(2026, 7, 1)) // 3600) % 24 == 22
    assert [quarter_hours(date(2026, 3, 29)), quarter_hours(date(2026, 10, 25))] == [92, 100]
    with pytest.raises(ValueError, match="YYYYMMDD"):
        period_day(20261345)


def test_data_leaf_matches_the_definition_and_any_change_alters_it():
    day = date(2026, 3, 29)
    values = np.arange(92, dtype=np.int64) * 3 - 50
    values[10] = MISSING
    imputed = np.zeros(92, dtype=bool)
    imputed[4] = True
    salt = os.urandom(32)
    leaf = data_leaf(salt, day, DeviceDay("IT001E12345678", values, imputed))
    key = keccak(encode(["bytes32", "string"], [salt, "IT001E12345678"]))
    digest = keccak(
        encode(
            ["bytes32", "uint256", "uint256", "uint256", "int64[]", "bytes"],
            [salt, 20260329, period_start(day), 900, [int(v) for v in values], imputed_mask(imputed)],
        )
    )
    assert leaf == ("0x" + key.hex(), "0x" + digest.hex())
    changed = values.copy()
    changed[0] += 1
    assert data_leaf(salt, day, DeviceDay("IT001E12345678", changed, imputed))[1] != leaf[1]
    other_salt = bytes([salt[0] ^ 1]) + salt[1:]
    assert data_leaf(other_salt, day, DeviceDay("IT001E12345678", values, imputed)) != leaf
    flipped = imputed.copy()
    flipped[5] = True
    assert data_leaf(salt, day, DeviceDay("IT001E12345678", values, flipped))[1] != leaf[1]
    assert device_key(salt, "IT001E12345679") != key
    with pytest.raises(ValueError, match="92 quarter hours"):
        data_leaf(salt, day, DeviceDay("x", np.zeros(96, dtype=np.int64), np.zeros(96, dtype=bool)))


@settings(max_examples=40, deadline=None)
@given(position=st.integers(0, 95), bit=st.integers(0, 62))
def test_any_single_changed_bit_of_a_value_changes_the_hashes(position, bit):
    salt = bytes(range(32))
    values = np.full(96, 120, dtype=np.int64)
    mask = imputed_mask(np.zeros(96, dtype=bool))
    base = readings_hash(salt, 20261125, 0, 900, values, mask)
    values[position] ^= np.int64(1) << np.int64(bit)
    assert readings_hash(salt, 20261125, 0, 900, values, mask) != base
    hours = values[:24]
    assert aggregates_hash(20261125, values, values, hours, hours, hours, 5) != aggregates_hash(
        20261125, np.full(96, 120, dtype=np.int64), values, hours, hours, hours, 5
    )


@settings(max_examples=60, deadline=None)
@given(salt=st.binary(min_size=32, max_size=32), device_id=st.text(max_size=80))
def test_device_key_is_keccak_of_abi_encode(salt, device_id):
    assert device_key(salt, device_id) == keccak(encode(["bytes32", "string"], [salt, device_id]))
