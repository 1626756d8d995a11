"""OpenZeppelin's StandardMerkleTree (``@openzeppelin/merkle-tree`` 1.0.8), bit for bit, in Python.

Semantics copied from the JS library so that its dumps, roots and proofs are interchangeable with ours
and ``MerkleProof.sol`` verifies them unchanged:

- leaf hash ``keccak256(keccak256(abi.encode(values)))`` (double hashing resists second pre-images);
- node hash ``keccak256(sort(a, b))`` (sorted pairs, so a proof needs no left/right flags);
- leaves sorted by ascending hash and laid into an array tree from its end: sorted leaf ``i`` sits at
  ``tree[len(tree) - 1 - i]``, node ``i`` has children ``2i+1`` and ``2i+2``, the root is ``tree[0]``;
- dump format ``standard-v1``: ``{format, leafEncoding, tree, values: [{value, treeIndex}]}`` with values
  in the caller's order.

Values are kept in their JSON form (addresses and byte strings as 0x-hex, integers as decimal strings) so
a dump can be loaded by the JS library, where JSON numbers would lose precision beyond 2**53.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eth_abi import encode as abi_encode

try:  # safe-pysha3 is a C extension about 5x faster per call than pycryptodome behind eth-hash.
    from sha3 import keccak_256 as _keccak_256

    def keccak(data: bytes) -> bytes:
        """Keccak-256 of ``data`` (Ethereum's hash, not NIST SHA3-256)."""
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - the lock file ships safe-pysha3
    from eth_hash.auto import keccak as _eth_keccak

    def keccak(data: bytes) -> bytes:
        """Keccak-256 of ``data`` (Ethereum's hash, not NIST SHA3-256)."""
        return _eth_keccak(data)


FORMAT = "standard-v1"

JsonValue = str | bool
Leaf = Sequence[Any]


class MerkleTreeError(ValueError):
    """A value, proof or dump that does not fit the tree or its leaf encoding."""


def to_hex(data: bytes) -> str:
    return "0x" + data.hex()


def from_hex(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise MerkleTreeError(f"Expected a 0x-prefixed hex string, got {text!r}.")
    try:
        return bytes.fromhex(text[2:])
    except ValueError as exc:
        raise MerkleTreeError(f"{text!r} is not valid hex.") from exc


def _int_bits(abi_type: str, prefix: str) -> int:
    bits = int(abi_type[len(prefix) :] or 256)
    if bits % 8 or not 8 <= bits <= 256:
        raise MerkleTreeError(f"Unsupported ABI type {abi_type!r}.")
    return bits


def _as_int(value: Any, abi_type: str) -> int:
    if isinstance(value, bool):
        raise MerkleTreeError(f"{abi_type} expects an integer, got a boolean.")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value.lower().startswith(("0x", "-0x")) else int(value)
        except ValueError as exc:
            raise MerkleTreeError(f"{value!r} is not an integer for {abi_type}.") from exc
    raise MerkleTreeError(f"{abi_type} expects an integer, got {type(value).__name__}.")


def _as_bytes(value: Any, abi_type: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return from_hex(value)
    raise MerkleTreeError(f"{abi_type} expects bytes or 0x-hex, got {type(value).__name__}.")


# A normaliser turns a caller's value into its JSON form; an encoder turns the JSON form into the 32-byte
# ABI word. Static types get hand-written encoders: eth_abi costs ~20 µs per call, these well under 1 µs.
_Normaliser = Callable[[Any], JsonValue]
_Encoder = Callable[[JsonValue], bytes]


def _static_codec(abi_type: str) -> tuple[_Normaliser, _Encoder] | None:
    if abi_type == "address":

        def norm_address(value: Any) -> JsonValue:
            raw = _as_bytes(value, abi_type)
            if len(raw) != 20:
                raise MerkleTreeError(f"An address has 20 bytes, got {len(raw)}: {value!r}.")
            return to_hex(raw)

        return norm_address, lambda v: b"\x00" * 12 + bytes.fromhex(str(v)[2:])
    if abi_type == "bool":

        def norm_bool(value: Any) -> JsonValue:
            if not isinstance(value, bool):
                raise MerkleTreeError(f"bool expects True or False, got {value!r}.")
            return value

        return norm_bool, lambda v: (1 if v else 0).to_bytes(32, "big")
    if abi_type.startswith("uint"):
        bits = _int_bits(abi_type, "uint")

        def norm_uint(value: Any) -> JsonValue:
            number = _as_int(value, abi_type)
            if not 0 <= number < 1 << bits:
                raise MerkleTreeError(f"{number} does not fit in {abi_type}.")
            return str(number)

        return norm_uint, lambda v: int(str(v)).to_bytes(32, "big")
    if abi_type.startswith("int"):
        bits = _int_bits(abi_type, "int")

        def norm_int(value: Any) -> JsonValue:
            number = _as_int(value, abi_type)
            if not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
                raise MerkleTreeError(f"{number} does not fit in {abi_type}.")
            return str(number)

        return norm_int, lambda v: int(str(v)).to_bytes(32, "big", signed=True)
    if abi_type.startswith("bytes") and abi_type != "bytes":
        size = int(abi_type[5:])
        if not 1 <= size <= 32:
            raise MerkleTreeError(f"Unsupported ABI type {abi_type!r}.")

        def norm_fixed_bytes(value: Any) -> JsonValue:
            raw = _as_bytes(value, abi_type)
            if len(raw) != size:
                raise MerkleTreeError(f"{abi_type} expects {size} bytes, got {len(raw)}: {value!r}.")
            return to_hex(raw)

        return norm_fixed_bytes, lambda v: bytes.fromhex(str(v)[2:]).ljust(32, b"\x00")
    return None


def _to_python(abi_type: str, value: Any) -> Any:
    """The eth_abi argument for a JSON-form value of a dynamic encoding."""
    if isinstance(value, str) and abi_type.startswith(("uint", "int")) and "[" not in abi_type:
        return _as_int(value, abi_type)
    if isinstance(value, str) and abi_type.startswith("bytes") and "[" not in abi_type:
        return from_hex(value)
    return value


class LeafCodec:
    """Normalises leaf values to their JSON form and hashes them as OpenZeppelin does."""

    def __init__(self, leaf_encoding: Sequence[str]) -> None:
        if not leaf_encoding:
            raise MerkleTreeError("The leaf encoding must list at least one ABI type.")
        self.leaf_encoding = list(leaf_encoding)
        self._codecs = [_static_codec(t) for t in self.leaf_encoding]
        self._static = all(c is not None for c in self._codecs)
        self._static_codecs = [c for c in self._codecs if c is not None]

    def normalise(self, value: Leaf) -> list[JsonValue]:
        if isinstance(value, str | bytes) or len(value) != len(self.leaf_encoding):
            raise MerkleTreeError(
                f"A leaf needs {len(self.leaf_encoding)} values for {self.leaf_encoding}, got {value!r}."
            )
        return [
            codec[0](v) if codec else (to_hex(v) if isinstance(v, bytes) else v)
            for codec, v in zip(self._codecs, value, strict=True)
        ]

    def encode(self, normalised: Sequence[JsonValue]) -> bytes:
        if self._static:
            return b"".join(c[1](v) for c, v in zip(self._static_codecs, normalised, strict=True))
        # Dynamic types (string, bytes, arrays) go through eth_abi, which also checks them.
        values = [_to_python(t, v) for t, v in zip(self.leaf_encoding, normalised, strict=True)]
        try:
            return abi_encode(self.leaf_encoding, values)
        except Exception as exc:  # eth_abi raises several unrelated exception types
            raise MerkleTreeError(f"Cannot ABI-encode {normalised!r} as {self.leaf_encoding}: {exc}") from exc

    def hash_normalised(self, normalised: Sequence[JsonValue]) -> bytes:
        return keccak(keccak(self.encode(normalised)))

    def leaf_hash(self, value: Leaf) -> bytes:
        return self.hash_normalised(self.normalise(value))


def node_hash(a: bytes, b: bytes) -> bytes:
    """Hash of two sibling nodes, sorted so that a proof needs no direction flags."""
    return keccak(a + b if a <= b else b + a)


def process_proof(leaf: bytes, proof: Sequence[str | bytes]) -> bytes:
    """The root reached from ``leaf`` through ``proof`` (as ``MerkleProof.processProof``)."""
    node = leaf
    for sibling in proof:
        raw = sibling if isinstance(sibling, bytes) else from_hex(sibling)
        if len(raw) != 32:
            raise MerkleTreeError(f"A proof element has 32 bytes, got {len(raw)}.")
        node = node_hash(node, raw)
    return node


class StandardMerkleTree:
    """A Merkle tree over ABI-encoded leaves, compatible with ``StandardMerkleTree`` of OpenZeppelin."""

    def __init__(
        self,
        tree: list[bytes],
        values: list[list[JsonValue]],
        tree_indices: list[int],
        codec: LeafCodec,
    ) -> None:
        self._tree = tree
        self._values = values
        self._tree_indices = tree_indices
        self._codec = codec
        self._hex: list[str] | None = None
        self._lookup: dict[bytes, int] | None = None

    @classmethod
    def of(cls, values: Sequence[Leaf], leaf_encoding: Sequence[str]) -> StandardMerkleTree:
        """Build the tree of ``values`` (each a sequence matching ``leaf_encoding``)."""
        if not values:
            raise MerkleTreeError("A Merkle tree needs at least one leaf.")
        codec = LeafCodec(leaf_encoding)
        normalised = [codec.normalise(v) for v in values]
        hashes = [codec.hash_normalised(v) for v in normalised]
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        size = 2 * len(hashes) - 1
        tree: list[bytes] = [b""] * size
        tree_indices = [0] * len(hashes)
        for leaf_index, value_index in enumerate(order):
            tree_index = size - 1 - leaf_index
            tree[tree_index] = hashes[value_index]
            tree_indices[value_index] = tree_index
        for i in range(size - 1 - len(hashes), -1, -1):
            a, b = tree[2 * i + 1], tree[2 * i + 2]
            tree[i] = keccak(a + b if a <= b else b + a)
        return cls(tree, normalised, tree_indices, codec)

    @classmethod
    def load(cls, data: dict[str, Any]) -> StandardMerkleTree:
        """Rebuild a tree from a ``standard-v1`` dump, checking every node and value as OpenZeppelin does."""
        if data.get("format") != FORMAT:
            raise MerkleTreeError(f"Unknown Merkle tree format {data.get('format')!r}; expected {FORMAT!r}.")
        if not data.get("leafEncoding"):
            raise MerkleTreeError("The dump has no leafEncoding.")
        codec = LeafCodec(data["leafEncoding"])
        tree = [from_hex(node) for node in data.get("tree", [])]
        if not tree:
            raise MerkleTreeError("The dump has an empty tree.")
        for i, node in enumerate(tree):
            if len(node) != 32:
                raise MerkleTreeError(f"Tree node {i} has {len(node)} bytes instead of 32.")
            left, right = 2 * i + 1, 2 * i + 2
            if right < len(tree):
                if node != node_hash(tree[left], tree[right]):
                    raise MerkleTreeError(f"Tree node {i} is not the hash of its children.")
            elif left < len(tree):
                raise MerkleTreeError(f"Tree node {i} has only one child.")
        values = [codec.normalise(entry["value"]) for entry in data.get("values", [])]
        tree_indices = [int(entry["treeIndex"]) for entry in data.get("values", [])]
        for index, (value, tree_index) in enumerate(zip(values, tree_indices, strict=True)):
            if not 0 <= tree_index < len(tree) or 2 * tree_index + 1 < len(tree):
                raise MerkleTreeError(f"Value {index} points at tree index {tree_index}, which is not a leaf.")
            if tree[tree_index] != codec.hash_normalised(value):
                raise MerkleTreeError(f"Value {index} does not hash to the leaf at tree index {tree_index}.")
        return cls(tree, values, tree_indices, codec)

    @staticmethod
    def verify(root: str | bytes, leaf_encoding: Sequence[str], value: Leaf, proof: Sequence[str | bytes]) -> bool:
        """True when ``proof`` links ``value`` to ``root``."""
        root_bytes = root if isinstance(root, bytes) else from_hex(root)
        return process_proof(LeafCodec(leaf_encoding).leaf_hash(value), proof) == root_bytes

    @property
    def root(self) -> str:
        return self._tree_hex[0]

    @property
    def leaf_encoding(self) -> list[str]:
        return list(self._codec.leaf_encoding)

    @property
    def values(self) -> list[list[JsonValue]]:
        """The leaf values in the order they were given, in their JSON form."""
        return [list(v) for v in self._values]

    def __len__(self) -> int:
        return len(self._values)

    @property
    def _tree_hex(self) -> list[str]:
        if self._hex is None:
            self._hex = ["0x" + node.hex() for node in self._tree]
        return self._hex

    def leaf_hash(self, value: Leaf) -> str:
        """The leaf hash of ``value`` under this tree's encoding (whether or not it is in the tree)."""
        return to_hex(self._codec.leaf_hash(value))

    def index_of(self, value: Leaf) -> int:
        """The position of ``value`` among the values given to :meth:`of`."""
        if self._lookup is None:
            self._lookup = {self._tree[t]: i for i, t in enumerate(self._tree_indices)}
        found = self._lookup.get(self._codec.leaf_hash(value))
        if found is None:
            raise MerkleTreeError(f"The value {list(value)!r} is not a leaf of this tree.")
        return found

    def get_proof(self, index_or_value: int | Leaf) -> list[str]:
        """The sibling hashes from a leaf up to the root, given the value or its position in the input."""
        index = index_or_value if isinstance(index_or_value, int) else self.index_of(index_or_value)
        if not 0 <= index < len(self._values):
            raise MerkleTreeError(f"Leaf index {index} is out of bounds for a tree of {len(self)} leaves.")
        nodes = self._tree_hex
        node = self._tree_indices[index]
        proof = []
        while node > 0:
            # Siblings are (odd, odd+1): the left child is odd, the right child even.
            proof.append(nodes[node + 1 if node % 2 else node - 1])
            node = (node - 1) // 2
        return proof

    def all_proofs(self) -> list[list[str]]:
        """Every value's proof, in input order."""
        return [self.get_proof(i) for i in range(len(self._values))]

    def dump(self) -> dict[str, Any]:
        """The tree in OpenZeppelin's ``standard-v1`` format, loadable by the JS library."""
        return {
            "format": FORMAT,
            "leafEncoding": self.leaf_encoding,
            "tree": list(self._tree_hex),
            "values": [
                {"value": list(v), "treeIndex": t} for v, t in zip(self._values, self._tree_indices, strict=True)
            ],
        }
