"""The oracle's web3.py client: reads period records and models, notarises, registers models, claims.

Every write is guarded by a read that makes it idempotent (a period already notarised is not re-sent, a
model with the same parameters is not registered twice, a claim already paid is skipped), transactions
pay nothing on a free-gas network (base fee 0, as the Besu network of the report), and a transaction
whose receipt was not seen (a crash, a lost connection) can be awaited again by hash instead of re-sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, TransactionNotFound

from lec.chain.contracts import abi, load_deployments
from lec.chain.reverts import error_name, sentence
from lec.settings import get_settings, rpc_url

T = TypeVar("T")
ORACLE_KEY_ENV = "LEC_ORACLE_PRIVATE_KEY"
LOCAL_CHAIN_IDS = {1337, 31337, 1981}
_RECEIPT_TIMEOUT = 120


class ChainError(RuntimeError):
    """A chain operation that failed, with a sentence saying why and what to do."""


@dataclass(frozen=True)
class PeriodRecord:
    version: int
    data_root: str
    rewards_root: str
    aggregates_hash: str
    model_id: int
    total_rewards: int
    leaf_count: int
    published_at: int
    publisher: str


@dataclass(frozen=True)
class ModelRecord:
    model_id: int
    name: str
    kind: str
    version: int
    params: str
    params_hash: str


@dataclass(frozen=True)
class TxResult:
    tx_hash: str
    block_number: int
    sent: bool  # False when nothing had to be sent


def _hex(value: bytes | str) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def _struct(fn_abi_name: str, contract_abi: Any, values: tuple) -> dict[str, Any]:
    entry = next(a for a in contract_abi if a.get("type") == "function" and a.get("name") == fn_abi_name)
    names = [c["name"] for c in entry["outputs"][0]["components"]]
    return dict(zip(names, values, strict=True))


def _retry(call: Callable[[], T], attempts: int = 5) -> T:
    """Retry a read over a flaky connection; reads are safe to repeat."""
    for attempt in range(attempts):
        try:
            return call()
        except (ConnectionError, OSError, TimeoutError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


class ChainClient:
    def __init__(self, w3: Web3, account: LocalAccount | None = None) -> None:
        self.w3 = w3
        self.account = account
        try:
            self.chain_id = int(_retry(lambda: w3.eth.chain_id))
        except Exception as exc:
            raise ChainError(
                f"Cannot reach the chain node at {getattr(w3.provider, 'endpoint_uri', '?')}: {exc}. "
                "Start it or set LEC_RPC_URL."
            ) from exc
        self.deployments = load_deployments(self.chain_id)
        contracts = self.deployments["contracts"]
        self.notary = w3.eth.contract(address=to_checksum_address(contracts["Notary"]), abi=abi("Notary"))
        self.models = w3.eth.contract(address=to_checksum_address(contracts["RewardModels"]), abi=abi("RewardModels"))
        self.registry = w3.eth.contract(address=to_checksum_address(contracts["Registry"]), abi=abi("Registry"))

    @classmethod
    def connect(cls, url: str | None = None, private_key: str | None = None) -> ChainClient:
        """A client for ``url`` (default LEC_RPC_URL) signing with ``private_key`` (default LEC_ORACLE_PRIVATE_KEY)."""
        w3 = Web3(Web3.HTTPProvider(url or rpc_url(), request_kwargs={"timeout": 30}))
        secret = get_settings().oracle_private_key
        key = private_key or (secret.get_secret_value() if secret else None)
        return cls(w3, Account.from_key(key) if key else None)

    # ------------------------------------------------------------------ reads

    def token(self, chain_community_id: int):
        address = _retry(lambda: self.registry.functions.tokenOf(chain_community_id).call())
        return self.w3.eth.contract(address=address, abi=abi("CommunityToken"))

    def latest_version(self, chain_community_id: int, period: int) -> int:
        return int(_retry(lambda: self.notary.functions.latestVersion(chain_community_id, period).call()))

    def record(self, chain_community_id: int, period: int, version: int) -> PeriodRecord:
        raw = _retry(lambda: self.notary.functions.record(chain_community_id, period, version).call())
        r = _struct("record", self.notary.abi, tuple(raw))
        return PeriodRecord(
            version=version,
            data_root=_hex(r["dataRoot"]),
            rewards_root=_hex(r["rewardsRoot"]),
            aggregates_hash=_hex(r["aggregatesHash"]),
            model_id=int(r["modelId"]),
            total_rewards=int(r["totalRewards"]),
            leaf_count=int(r["leafCount"]),
            published_at=int(r["publishedAt"]),
            publisher=r["publisher"],
        )

    def model(self, model_id: int) -> ModelRecord:
        raw = self._call(self.models.functions.model(model_id))
        m = _struct("model", self.models.abi, tuple(raw))
        return ModelRecord(model_id, m["name"], m["kind"], int(m["version"]), m["params"], _hex(m["paramsHash"]))

    def latest_model_id(self, name: str) -> int:
        return int(_retry(lambda: self.models.functions.latestModelId(name).call()))

    def claimed(self, chain_community_id: int, period: int, account: str) -> int:
        token = self.token(chain_community_id)
        return int(_retry(lambda: token.functions.claimed(period, to_checksum_address(account)).call()))

    def overpaid(self, chain_community_id: int, period: int, account: str) -> int:
        """The recorded over-payment of ``account`` for ``period`` (paid above its amount in a later version)."""
        token = self.token(chain_community_id)
        return int(_retry(lambda: token.functions.overpaid(period, to_checksum_address(account)).call()))

    def member_profiles(self, chain_community_id: int, accounts: list[str]) -> dict[str, tuple[bool, int]]:
        """(active, profile) of each account on chain (profile 0 consumer, 1 prosumer, 2 prostormer)."""
        token = self.token(chain_community_id)
        out = {}
        for account in accounts:
            m = _struct("member", token.abi, tuple(token.functions.member(to_checksum_address(account)).call()))
            out[account] = (bool(m["active"]), int(m["profile"]))
        return out

    # ------------------------------------------------------------------ writes

    def _call(self, fn: Any) -> Any:
        try:
            return _retry(fn.call)
        except ContractLogicError as exc:
            raise ChainError(self.explain(exc)) from exc

    def explain(self, exc: ContractLogicError) -> str:
        data = getattr(exc, "data", None)
        name = error_name(data) if isinstance(exc, ContractCustomError) else None
        if name:
            return f"{sentence(name)} ({name})"
        return f"The contract refused the call: {exc}"

    def _fees(self) -> dict[str, int]:
        base_fee = int(_retry(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas", 1))
        if base_fee == 0:
            # A free-gas network: say so explicitly, or the node's suggested tip would be paid.
            return {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0}
        tip = int(_retry(lambda: self.w3.eth.max_priority_fee))
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip}

    def _sender(self) -> ChecksumAddress:
        if self.account is not None:
            return self.account.address
        # A local development node (anvil) unlocks its test accounts; the first one deploys the demo and
        # holds every admin role there. Besu unlocks nothing, so production always needs the key.
        unlocked = list(self.w3.eth.accounts) if self.chain_id in LOCAL_CHAIN_IDS else []
        if unlocked:
            return to_checksum_address(unlocked[0])
        raise ChainError(
            f"No signing key: set {ORACLE_KEY_ENV} to the private key of an account holding oracle-admin "
            "(and claim-relayer, to submit members' claims)."
        )

    def send(self, fn: Any, on_sent: Callable[[str], None] | None = None) -> TxResult:
        """Sign and send ``fn`` (a contract function call), wait for it and check it succeeded.

        ``on_sent`` receives the hash before waiting, so a caller can persist it and await it after a crash.
        """
        sender = self._sender()
        try:
            gas = fn.estimate_gas({"from": sender})
        except ContractLogicError as exc:
            raise ChainError(self.explain(exc)) from exc
        tx = fn.build_transaction(
            {
                "from": sender,
                "nonce": self.w3.eth.get_transaction_count(sender, "pending"),
                "gas": gas * 12 // 10 + 10_000,
                "chainId": self.chain_id,
                **self._fees(),
            }
        )
        if self.account is None:
            tx_hash = _hex(self.w3.eth.send_transaction(tx))  # the node holds the key (local dev chain)
        else:
            tx_hash = _hex(self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction))
        if on_sent:
            on_sent(tx_hash)
        return self.wait(tx_hash)

    def wait(self, tx_hash: str) -> TxResult:
        """Wait for a sent transaction and check it succeeded."""
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(HexStr(tx_hash), timeout=_RECEIPT_TIMEOUT)
        except TimeExhausted as exc:
            raise ChainError(
                f"Transaction {tx_hash} was not mined within {_RECEIPT_TIMEOUT} s: check the node and re-run; "
                "the run waits for this transaction instead of sending another."
            ) from exc
        if receipt["status"] != 1:
            raise ChainError(f"Transaction {tx_hash} reverted in block {receipt['blockNumber']}.")
        return TxResult(tx_hash=tx_hash, block_number=int(receipt["blockNumber"]), sent=True)

    def receipt_if_known(self, tx_hash: str) -> TxResult | None:
        """The result of an earlier transaction, or None when the node does not know it (never mined)."""
        try:
            self.w3.eth.get_transaction(HexStr(tx_hash))
        except TransactionNotFound:
            return None
        return self.wait(tx_hash)

    def notarise(
        self,
        chain_community_id: int,
        period: int,
        data_root: str,
        rewards_root: str,
        aggregates_hash: str,
        model_id: int,
        total_rewards: int,
        leaf_count: int,
        on_sent: Callable[[str], None] | None = None,
        correction_reason: str | None = None,
    ) -> TxResult:
        args = (
            chain_community_id,
            period,
            data_root,
            rewards_root,
            aggregates_hash,
            model_id,
            total_rewards,
            leaf_count,
        )
        if correction_reason:
            return self.send(self.notary.functions.correct(*args, correction_reason), on_sent)
        return self.send(self.notary.functions.notarise(*args), on_sent)

    def register_model(self, name: str, kind: str, params: str) -> tuple[int, TxResult | None]:
        """The id of model ``name`` with exactly these parameters, registering a new version only if needed."""
        latest = self.latest_model_id(name)
        if latest:
            current = self.model(latest)
            if current.kind == kind and current.params == params:
                return latest, None
        result = self.send(self.models.functions.registerModel(name, kind, params))
        return self.latest_model_id(name), result

    def claim_for(self, chain_community_id: int, account: str, period: int, amount: int, proof: list[str]) -> TxResult:
        token = self.token(chain_community_id)
        return self.send(token.functions.claimFor(to_checksum_address(account), period, amount, proof))

    def record_overpayment(
        self, chain_community_id: int, account: str, period: int, amount: int, proof: list[str]
    ) -> TxResult:
        """Record on chain that ``account`` was paid above ``amount``, its leaf in the latest version."""
        token = self.token(chain_community_id)
        return self.send(token.functions.recordOverpayment(to_checksum_address(account), period, amount, proof))

    def find_notarisation(self, chain_community_id: int, period: int, version: int) -> TxResult | None:
        """The transaction that notarised ``version`` of a period, found in the Notary's logs."""
        start = int(self.deployments.get("deployedAtBlock", 0))
        event = self.notary.events.PeriodNotarised
        logs = event.get_logs(
            from_block=start, argument_filters={"communityId": chain_community_id, "periodId": period}
        )
        for log in logs:
            if int(log["args"]["version"]) == version:
                return TxResult(_hex(log["transactionHash"]), int(log["blockNumber"]), sent=False)
        return None
