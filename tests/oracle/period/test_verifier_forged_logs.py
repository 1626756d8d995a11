"""The `transaction` check reads only the Notary's own PeriodNotarised event of the bundle's period.

A notarisation transaction carries other logs too (the token's PeriodOpened, a correction's PeriodCorrected); a
transaction sent to the Notary could also carry an event shaped like PeriodNotarised from another contract (one
the Notary calls, or a forger's). Both verifiers must refuse a bundle whose transaction has no PeriodNotarised of
the Notary itself for the bundle's community, period and version — naming `transaction`, not a later check.

No chain is needed: a small JSON-RPC node in this process answers the receipts of hand-made transactions (and
reverts every contract call, so a bundle that passes `transaction` fails at `record`, the next check). This kills
verify.py's mutant `log.address == notary` → `<=` (a forged event from a lower address was accepted) and its
mirror `>=`, and the same two of the receipt's `to` (docs/testing.md, "Scores").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner
from eth_abi import encode
from eth_utils import keccak

from oracle.audit.verify import BUNDLE_FORMAT, BUNDLE_VERSION
from tests.support.verifier import js_verdicts, lec_failed_check

CHAIN_ID = 31337
NOTARY = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
MODELS = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512"
BELOW = "0x0000000000000000000000000000000000001234"  # sorts below the Notary's address
ABOVE = "0xffffffffffffffffffffffffffffffffffff0001"  # sorts above it
COMMUNITY, PERIOD, VERSION, BLOCK = 7, 20261025, 1, 42
NOTARISED = keccak(text="PeriodNotarised(uint256,uint256,uint256,bytes32,bytes32,bytes32,uint256,uint256,uint256)")
CORRECTED = keccak(text="PeriodCorrected(uint256,uint256,uint256,uint256,string)")


def _word(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def _notarised(address: str, community: int, period: int, version: int) -> dict[str, Any]:
    data = encode(
        ["uint256", "bytes32", "bytes32", "bytes32", "uint256", "uint256"],
        [version, b"\x11" * 32, b"\x22" * 32, b"\x33" * 32, 10**18, 4],
    )
    topics = ["0x" + NOTARISED.hex(), _word(community), _word(period), _word(1)]
    return {"address": address, "topics": topics, "data": "0x" + data.hex()}


def _corrected(address: str, community: int, period: int, version: int) -> dict[str, Any]:
    data = encode(["uint256", "uint256", "string"], [version, version - 1, "meter re-read"])
    return {
        "address": address,
        "topics": ["0x" + CORRECTED.hex(), _word(community), _word(period)],
        "data": "0x" + data.hex(),
    }


# case → (the logs of its transaction, the check both verifiers must fail at)
CASES: dict[str, tuple[list[dict[str, Any]], str]] = {
    # the control: the Notary's own event of this version; the fake node has no record, so `record` fails
    "notary-event": ([_notarised(NOTARY, COMMUNITY, PERIOD, VERSION)], "record"),
    "forged-event-from-a-lower-address": ([_notarised(BELOW, COMMUNITY, PERIOD, VERSION)], "transaction"),
    "forged-event-from-a-higher-address": ([_notarised(ABOVE, COMMUNITY, PERIOD, VERSION)], "transaction"),
    "forged-events-around-another-period": (
        [
            _notarised(BELOW, COMMUNITY, PERIOD, VERSION),
            _notarised(NOTARY, COMMUNITY, PERIOD + 1, VERSION),
            _notarised(ABOVE, COMMUNITY, PERIOD, VERSION),
        ],
        "transaction",
    ),
    "another-period": ([_notarised(NOTARY, COMMUNITY, PERIOD + 1, VERSION)], "transaction"),
    "another-community": ([_notarised(NOTARY, COMMUNITY + 1, PERIOD, VERSION)], "transaction"),
    "another-version": ([_notarised(NOTARY, COMMUNITY, PERIOD, VERSION + 1)], "transaction"),
    "a-correction-event-only": ([_corrected(NOTARY, COMMUNITY, PERIOD, VERSION)], "transaction"),
    # The Notary's own event, in a transaction sent to another contract (one that calls the Notary): the bundle
    # must name the transaction that was sent to the Notary itself, whichever way the other address sorts.
    "sent-to-a-lower-address": ([_notarised(NOTARY, COMMUNITY, PERIOD, VERSION)], "transaction"),
    "sent-to-a-higher-address": ([_notarised(NOTARY, COMMUNITY, PERIOD, VERSION)], "transaction"),
}
# case → the receipt's `to` when it is not the Notary
SENT_TO = {"sent-to-a-lower-address": BELOW, "sent-to-a-higher-address": ABOVE}


def _tx_hash(case: str) -> str:
    return "0x" + keccak(text=case).hex()


def _receipt(case: str, logs: list[dict[str, Any]]) -> dict[str, Any]:
    tx, block_hash = _tx_hash(case), "0x" + keccak(text=f"block {case}").hex()
    return {
        "transactionHash": tx,
        "transactionIndex": "0x0",
        "blockHash": block_hash,
        "blockNumber": hex(BLOCK),
        "from": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
        "to": SENT_TO.get(case, NOTARY),
        "contractAddress": None,
        "cumulativeGasUsed": "0x5208",
        "gasUsed": "0x5208",
        "effectiveGasPrice": "0x3b9aca00",
        "logsBloom": "0x" + "00" * 256,
        "status": "0x1",
        "type": "0x2",
        "logs": [
            {
                **log,
                "blockHash": block_hash,
                "blockNumber": hex(BLOCK),
                "transactionHash": tx,
                "transactionIndex": "0x0",
                "logIndex": hex(i),
                "removed": False,
            }
            for i, log in enumerate(logs)
        ],
    }


RECEIPTS = {_tx_hash(case): _receipt(case, logs) for case, (logs, _) in CASES.items()}


class _Node(BaseHTTPRequestHandler):
    """A JSON-RPC node that knows the chain id and the receipts above, and reverts every contract call."""

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = [self._answer(r) for r in request] if isinstance(request, list) else self._answer(request)
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def _answer(request: dict[str, Any]) -> dict[str, Any]:
        method, params, reply = request["method"], request.get("params", []), {"jsonrpc": "2.0", "id": request["id"]}
        if method == "eth_chainId":
            return {**reply, "result": hex(CHAIN_ID)}
        if method == "net_version":
            return {**reply, "result": str(CHAIN_ID)}
        if method == "eth_blockNumber":
            return {**reply, "result": hex(BLOCK + 10)}
        if method == "eth_getTransactionReceipt":
            return {**reply, "result": RECEIPTS.get(params[0].lower())}
        if method == "eth_call":
            return {**reply, "error": {"code": 3, "message": "execution reverted", "data": "0x"}}
        return {**reply, "error": {"code": -32601, "message": f"the method {method} does not exist"}}


@pytest.fixture(scope="module")
def node_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _bundle(case: str) -> dict[str, Any]:
    """The fields the checks up to `record` read (the rest of a bundle is never reached here)."""
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "chainId": CHAIN_ID,
        "communityId": COMMUNITY,
        "periodId": PERIOD,
        "contracts": {"Notary": NOTARY, "RewardModels": MODELS},
        "notarisation": {"version": VERSION, "txHash": _tx_hash(case), "block": BLOCK},
    }


@pytest.fixture(scope="module")
def verdicts(node_url, tmp_path_factory) -> dict[str, tuple[str | None, str | None, str]]:
    """case → (the check `lec verify` failed at, the one the JavaScript verifier failed at, lec's output)."""
    from lec.cli import lec

    folder = tmp_path_factory.mktemp("forged")
    paths = {case: folder / f"{case}.json" for case in CASES}
    for case, path in paths.items():
        path.write_text(json.dumps(_bundle(case)))
    lines = js_verdicts(list(paths.values()), node_url, timeout=120)
    out = {}
    for (case, path), line in zip(paths.items(), lines, strict=True):
        result = CliRunner().invoke(lec, ["verify", str(path), "--rpc", node_url])
        out[case] = (lec_failed_check(result.output), line["failed"], result.output)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_both_verifiers_take_only_the_notarys_own_event_of_the_bundles_period(verdicts, case):
    python, js, output = verdicts[case]
    expected = CASES[case][1]
    assert (python, js) == (expected, expected), output
    if case in SENT_TO:
        assert "was not sent to the Notary" in output
    elif expected == "transaction":
        assert f"did not notarise version {VERSION} of period {PERIOD} of community {COMMUNITY}" in output
    else:  # the control passed `transaction`: the Notary's own event was found
        assert f"notarised version {VERSION}" in output and "ok   transaction" in output
