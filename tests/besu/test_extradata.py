"""QBFT extraData: Besu's documented genesis example bit for bit, and a lossless round trip."""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from lec.besu.extradata import decode_extra_data, encode_extra_data

# From the "Configure QBFT consensus" page of the Besu documentation (23.7.1), block-header validator
# selection: four validators, no vote, round 0, no seals. Produced by Besu's own QbftExtraDataCodec.
BESU_DOC_VALIDATORS = [
    "0x64a702e6263b7297a96638cac6ae65e6541f4169",
    "0x3923390ad55e90c237593b3b0e401f3b08a03185",
    "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
    "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
]
BESU_DOC_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e6263b7297a96638cac6ae65e6541f"
    "4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f433e5b6b212a6d62f6370c2f69294c7eeb9a4e00ce683cf9303"
    "9b212648e01c6c6b78c080c0"
)

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)


def test_encoding_matches_besu_documentation_example():
    assert encode_extra_data(BESU_DOC_VALIDATORS) == BESU_DOC_EXTRA_DATA


def test_besu_example_decodes_to_its_validators_with_no_vote_round_zero_no_seals():
    decoded = decode_extra_data(BESU_DOC_EXTRA_DATA)
    assert decoded.validators == [to_checksum_address(a) for a in BESU_DOC_VALIDATORS]
    assert decoded.vanity == bytes(32)
    assert (decoded.vote, decoded.round, decoded.seals) == ([], 0, [])


@given(st.lists(addresses, min_size=1, max_size=30, unique_by=str.lower))
def test_round_trip_keeps_exactly_the_validators_in_order(validators):
    assert decode_extra_data(encode_extra_data(validators)).validators == validators


def test_refuses_an_empty_or_repeated_validator_list():
    with pytest.raises(ValueError, match="at least one validator"):
        encode_extra_data([])
    with pytest.raises(ValueError, match="repeats"):
        encode_extra_data([BESU_DOC_VALIDATORS[0], BESU_DOC_VALIDATORS[0].upper().replace("0X", "0x")])


@pytest.mark.parametrize("garbage", ["0x", "0x00", "0xc0", BESU_DOC_EXTRA_DATA[:-6]])
def test_decoding_garbage_is_a_clear_error(garbage):
    with pytest.raises(ValueError, match="extraData"):
        decode_extra_data(garbage)
