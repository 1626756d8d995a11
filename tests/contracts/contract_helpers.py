# pymultihash (an ape dependency) installs a top-level `tests` package, so shared test helpers are imported
# by module name (this folder is on sys.path through conftest.py), never as `tests.…`.
"""Constants and small helpers shared by the contract tests."""

from __future__ import annotations

import os
import time
from typing import Any

import requests
from eth_abi import encode
from eth_utils import keccak

from oracle.proofs.merkle import StandardMerkleTree

UNIT = 10**18
CITIZEN, STAKEHOLDER = 1, 2
CONSUMER, PROSUMER, PROSTORMER = 0, 1, 2
REWARD_LEAF = ["address", "uint256"]
PERIOD = 20260315
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def proof_of(tree: StandardMerkleTree, account, amount: int) -> list[str]:
    """The proof of the rewards leaf `(account, amount)` in `tree`."""
    return tree.get_proof([account.address, amount])


# pytest-timeout's 600 s (pyproject) per test; a 10 000-step run of a stateful test may take longer.
STATEFUL_TIMEOUT = 3 * 3600 if os.environ.get("LEC_INVARIANT_STEPS") else 600


def stateful_runs(default_examples: int, default_steps: int) -> tuple[int, int, int]:
    """(examples per run, steps per example, steps wanted in total) of a stateful property test.

    `make test` runs the defaults; `make test-deep` sets LEC_INVARIANT_STEPS (e.g. 10000) and the test keeps running
    examples of 50 steps until that many steps were taken."""
    wanted = int(os.environ.get("LEC_INVARIANT_STEPS", "0"))
    if wanted:
        return max(1, wanted // 50), 50, wanted
    return default_examples, default_steps, 0


class FastRpc:
    """Raw JSON-RPC to anvil for the stateful tests, which take thousands of steps: reads go out in one batched
    request and transactions are sent from anvil's unlocked test accounts, about thirty times faster than through
    ape or web3.py. A failed transaction's revert data comes from anvil's call tracer, so every expected refusal is
    still checked against the custom error the test names."""

    def __init__(self, url: str):
        self._url = url
        self._session = requests.Session()
        self.clock: int | None = None

    def start_clock(self) -> int:
        """From now on every transaction is mined at `clock`, one second after the previous one (plus what
        `advance` adds), so a model knows each transaction's block time; returns the first."""
        self.clock = int(self._one("eth_getBlockByNumber", ["latest", False])["timestamp"], 16) + 1
        return self.clock

    def advance(self, seconds: int) -> None:
        assert self.clock is not None, "start_clock first"
        self.clock += seconds

    def _one(self, method: str, params: list) -> Any:
        answer = self._session.post(self._url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        body = answer.json()
        if "error" in body:
            raise RuntimeError(f"{method} failed: {body['error']}")
        return body["result"]

    @staticmethod
    def calldata(signature: str, args: tuple) -> str:
        """ABI call data of `signature` (e.g. "transfer(address,uint256)"; no tuple types) with `args`."""
        types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
        return "0x" + keccak(text=signature)[:4].hex() + encode(types, list(args)).hex()

    def words(self, calls: list[tuple[str, str, tuple]]) -> list[list[int]]:
        """The 32-byte words returned by each `(contract, signature, args)` view call, read in one request."""
        if not calls:
            return []
        body = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [{"to": to, "data": self.calldata(sig, a)}]}
            for i, (to, sig, a) in enumerate(calls)
        ]
        answers = sorted(self._session.post(self._url, json=body).json(), key=lambda r: r["id"])
        out = []
        for answer, call in zip(answers, calls, strict=True):
            if "error" in answer:
                raise RuntimeError(f"{call[1]} failed: {answer['error']}")
            raw = bytes.fromhex(answer["result"][2:])
            out.append([int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)])
        return out

    def uints(self, calls: list[tuple[str, str, tuple]]) -> list[int]:
        """The first word of each view call's result (a uint or a bool)."""
        return [w[0] for w in self.words(calls)]

    def send(self, sender: str, to: str, signature: str, *args) -> bytes | None:
        """Sends a transaction from an unlocked test account: None when it succeeded, else its revert data."""
        if self.clock is not None:
            self._one("evm_setNextBlockTimestamp", [self.clock])
            self.clock += 1
        tx_hash = self._one("eth_sendTransaction", [{"from": sender, "to": to, "data": self.calldata(signature, args)}])
        receipt = self._one("eth_getTransactionReceipt", [tx_hash])
        for _ in range(2_000):  # anvil mines each transaction at once, but may answer before it did
            if receipt is not None:
                break
            time.sleep(0.001)
            receipt = self._one("eth_getTransactionReceipt", [tx_hash])
        if int(receipt["status"], 16) == 1:
            return None
        trace = self._one("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        return bytes.fromhex(trace.get("output", "0x")[2:])

    def transact(self, sender, contract, signature: str, *args) -> None:
        """A transaction that must succeed."""
        refused = self.send(_address(sender), _address(contract), signature, *args)
        assert refused is None, f"{signature} was refused with {refused.hex() if refused else 'no data'}"

    def refused(self, error: str, sender, contract, signature: str, *args, errors_of=None) -> None:
        """A transaction that must be refused with custom error `error` of `contract`'s ABI (or of `errors_of`'s,
        when the error comes from a contract it calls)."""
        data = self.send(_address(sender), _address(contract), signature, *args)
        assert data is not None, f"{signature} went through; expected {error}"
        expected = error_selector(errors_of or contract, error)
        assert data[:4] == expected, f"{signature} was refused with 0x{data[:4].hex()}, expected {error}"


def _address(value) -> str:
    return value if isinstance(value, str) else value.address


def error_selector(contract, name: str) -> bytes:
    """The 4-byte selector of custom error `name` in `contract`'s ABI."""
    for entry in contract.contract_type.model_dump(mode="json")["abi"]:
        if entry.get("type") == "error" and entry["name"] == name:
            types = ",".join(_abi_type(i) for i in entry["inputs"])
            return keccak(text=f"{name}({types})")[:4]
    raise KeyError(f"{name} is not an error of {contract.contract_type.name}")


def _abi_type(entry: dict) -> str:
    if entry["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")" + entry["type"][5:]
    return entry["type"]
