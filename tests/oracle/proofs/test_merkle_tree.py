"""StandardMerkleTree in Python against @openzeppelin/merkle-tree 1.0.8 in Node."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle.proofs.merkle import MerkleTreeError, StandardMerkleTree, keccak

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
amounts = st.integers(min_value=0, max_value=2**256 - 1)
words = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())

reward_leaves = st.lists(st.tuples(addresses, amounts), min_size=1, max_size=40)
data_leaves = st.lists(st.tuples(words, words), min_size=1, max_size=40)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _js_values(values: list[tuple[str, int]] | list[tuple[str, str]]) -> list[list[str]]:
    return [[a, str(b)] for a, b in values]


@SETTINGS
@given(values=reward_leaves)
def test_rewards_tree_matches_openzeppelin(oz, values):
    ours = StandardMerkleTree.of(values, ["address", "uint256"])
    ref = oz.ask({"op": "of", "encoding": ["address", "uint256"], "values": _js_values(values)})
    assert "error" not in ref, ref
    assert ours.root == ref["root"]
    assert ours.all_proofs() == ref["proofs"]
    assert ours.dump() == ref["dump"]


@SETTINGS
@given(values=data_leaves)
def test_data_tree_matches_openzeppelin(oz, values):
    ours = StandardMerkleTree.of(values, ["bytes32", "bytes32"])
    ref = oz.ask({"op": "of", "encoding": ["bytes32", "bytes32"], "values": [list(v) for v in values]})
    assert "error" not in ref, ref
    assert ours.root == ref["root"]
    assert ours.dump() == ref["dump"]
    for i, value in enumerate(values):
        assert ours.get_proof(i) == ref["proofs"][i]
        # As in the JS library, a value given twice is looked up as its last occurrence.
        last = max(j for j, other in enumerate(values) if other == value)
        assert ours.get_proof(value) == ref["proofs"][last]


@SETTINGS
@given(values=reward_leaves)
def test_openzeppelin_loads_our_dump_and_we_load_theirs(oz, values):
    ours = StandardMerkleTree.of(values, ["address", "uint256"])
    loaded_by_js = oz.ask({"op": "load", "dump": json.loads(json.dumps(ours.dump()))})
    assert loaded_by_js.get("root") == ours.root
    theirs = oz.ask({"op": "of", "encoding": ["address", "uint256"], "values": _js_values(values)})["dump"]
    assert StandardMerkleTree.load(theirs).root == ours.root


@SETTINGS
@given(values=reward_leaves, data=st.data())
def test_every_proof_verifies_and_a_changed_byte_fails(oz, values, data):
    tree = StandardMerkleTree.of(values, ["address", "uint256"])
    index = data.draw(st.integers(min_value=0, max_value=len(values) - 1))
    proof = tree.get_proof(index)
    assert StandardMerkleTree.verify(tree.root, ["address", "uint256"], values[index], proof)
    js = oz.ask(
        {
            "op": "verify",
            "root": tree.root,
            "encoding": ["address", "uint256"],
            "value": _js_values([values[index]])[0],
            "proof": proof,
        }
    )
    assert js == {"ok": True}
    # Flip one bit somewhere in the amount, the root or a proof element: verification must fail.
    address, amount = values[index]
    bit = data.draw(st.integers(min_value=0, max_value=255))
    assert not StandardMerkleTree.verify(tree.root, ["address", "uint256"], (address, amount ^ (1 << bit)), proof)
    root = bytearray.fromhex(tree.root[2:])
    root[bit // 8] ^= 1 << (bit % 8)
    assert not StandardMerkleTree.verify(bytes(root), ["address", "uint256"], values[index], proof)
    if proof:
        which = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        element = bytearray.fromhex(proof[which][2:])
        element[bit // 8] ^= 1 << (bit % 8)
        forged = [*proof[:which], "0x" + element.hex(), *proof[which + 1 :]]
        assert not StandardMerkleTree.verify(tree.root, ["address", "uint256"], values[index], forged)


def test_single_leaf_tree_is_its_leaf_hash_with_empty_proof():
    value = ("0x" + "ab" * 20, 7)
    tree = StandardMerkleTree.of([value], ["address", "uint256"])
    encoded = bytes(12) + bytes.fromhex("ab" * 20) + (7).to_bytes(32, "big")
    assert tree.root == "0x" + keccak(keccak(encoded)).hex()
    assert tree.get_proof(0) == []


def test_leaf_hash_is_double_keccak_of_abi_encoding():
    from eth_abi import encode

    value = ("0x" + "12" * 32, "0x" + "34" * 32)
    tree = StandardMerkleTree.of([value], ["bytes32", "bytes32"])
    expected = keccak(keccak(encode(["bytes32", "bytes32"], [bytes.fromhex("12" * 32), bytes.fromhex("34" * 32)])))
    assert tree.leaf_hash(value) == "0x" + expected.hex()


def test_load_rejects_a_tampered_dump():
    values = [("0x" + os.urandom(20).hex(), i) for i in range(5)]
    dump = StandardMerkleTree.of(values, ["address", "uint256"]).dump()
    dump["values"][2]["value"][1] = "999"
    with pytest.raises(MerkleTreeError, match="does not hash"):
        StandardMerkleTree.load(dump)
    dump = StandardMerkleTree.of(values, ["address", "uint256"]).dump()
    dump["tree"][1] = "0x" + "00" * 32
    with pytest.raises(MerkleTreeError, match="not the hash of its children"):
        StandardMerkleTree.load(dump)
    with pytest.raises(MerkleTreeError, match="Unknown Merkle tree format"):
        StandardMerkleTree.load({**dump, "format": "simple-v1"})


def test_bad_values_are_refused_with_a_reason():
    with pytest.raises(MerkleTreeError, match="at least one leaf"):
        StandardMerkleTree.of([], ["address", "uint256"])
    with pytest.raises(MerkleTreeError, match="20 bytes"):
        StandardMerkleTree.of([("0x1234", 1)], ["address", "uint256"])
    with pytest.raises(MerkleTreeError, match="does not fit"):
        StandardMerkleTree.of([("0x" + "00" * 20, -1)], ["address", "uint256"])
    tree = StandardMerkleTree.of([("0x" + "00" * 20, 1)], ["address", "uint256"])
    with pytest.raises(MerkleTreeError, match="not a leaf"):
        tree.get_proof(("0x" + "00" * 20, 2))


def test_dynamic_encodings_fall_back_to_eth_abi(oz):
    values = [["alice", "0x01", "5"], ["bob", "0x", "6"]]
    ours = StandardMerkleTree.of(values, ["string", "bytes", "uint256"])
    ref = oz.ask({"op": "of", "encoding": ["string", "bytes", "uint256"], "values": values})
    assert ours.root == ref["root"]
