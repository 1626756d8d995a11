"""Node keys: the address and the enode public key both derive from the private key."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_keys.constants import SECPK1_N
from hypothesis import given
from hypothesis import strategies as st

from lec.besu.keys import NodeKey, enode_url, new_key, parse_enode, parse_private_key, public_key_to_address

private_keys = st.integers(min_value=1, max_value=SECPK1_N - 1).map(lambda i: i.to_bytes(32, "big"))


@given(private_keys)
def test_address_and_enode_agree_with_eth_account(secret):
    key = NodeKey(secret)
    assert key.address == Account.from_key(secret).address
    pubkey, host, port = parse_enode(key.enode("172.16.239.11", 30303))
    assert (host, port) == ("172.16.239.11", 30303)
    assert public_key_to_address(pubkey) == key.address


@given(private_keys)
def test_key_file_round_trip(secret):
    key = NodeKey(secret)
    assert parse_private_key(key.private_key_file()) == key
    assert key.public_key_file() == "0x" + key.public_key_hex


def test_fresh_keys_differ():
    assert len({new_key().address for _ in range(8)}) == 8


@pytest.mark.parametrize("text", ["", "0x1234", "zz" * 32, "0x" + "00" * 32, hex(SECPK1_N)])
def test_bad_key_file_is_refused(text):
    with pytest.raises(ValueError, match="64 hex digits"):
        parse_private_key(text)


@pytest.mark.parametrize(
    "url", ["enode://abc@1.2.3.4:30303", "enode://" + "a" * 128 + "@1.2.3.4", "http://" + "a" * 128 + "@h:1"]
)
def test_malformed_enode_is_refused(url):
    with pytest.raises(ValueError, match="not an enode URL"):
        parse_enode(url)


def test_enode_needs_a_port_and_a_key_of_the_right_length():
    with pytest.raises(ValueError, match="not a TCP port"):
        enode_url("a" * 128, "h", 70000)
    with pytest.raises(ValueError, match="128 lowercase hex"):
        enode_url("04" + "a" * 128, "h", 30303)
