"""The auditor's side of the take-out procedure (DESIGN §5 step 9): verify a member's proof bundle.

``verify_bundle`` recomputes everything from the bundle and checks it against the records notarised on
chain, naming the first check that does not hold. It needs no database and no oracle files: only web3
reads, so anyone with a JSON-RPC endpoint can run it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, TransactionNotFound

from lec.calendar import period_day
from lec.flex.delivery import delivered
from oracle.audit import BUNDLE_FORMAT, BUNDLE_VERSION
from oracle.clean import CleanDay, clean_day
from oracle.flex.rewards import KIND as FLEX_KIND
from oracle.flex.rewards import FlexibilityModel
from oracle.flex.settlement import event_leaf, event_reward, period_leaf
from oracle.pipeline import DeviceSeries, MemberInput, member_energy
from oracle.proofs.encoding import (
    DATA_LEAF_ENCODING,
    MISSING,
    REWARD_LEAF_ENCODING,
    DeviceDay,
    aggregates_hash,
    data_leaf,
    imputed_mask,
)
from oracle.proofs.merkle import StandardMerkleTree, keccak
from oracle.rewards.models import RewardModel, member_uncapped


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class _Failed(Exception):
    def __init__(self, name: str, detail: str) -> None:
        super().__init__(detail)
        self.name = name
        self.detail = detail


def _is_notarised(notary, log) -> bool:
    """Whether a log of the Notary is a PeriodNotarised event (and not PeriodCorrected)."""
    topic = notary.events.PeriodNotarised().topic
    first = log["topics"][0]
    first_hex = first if isinstance(first, str) else "0x" + bytes(first).hex()
    return first_hex.lower().removeprefix("0x") == str(topic).lower().removeprefix("0x")


def _require(ok: bool, name: str, detail: str) -> None:
    if not ok:
        raise _Failed(name, detail)


def _cleaned_from_bundle(device: dict[str, Any], n: int) -> CleanDay:
    values = np.array(device["values"], dtype=np.int64)
    mask = bytes.fromhex(device["imputedMask"][2:])
    imputed = np.unpackbits(np.frombuffer(mask, dtype=np.uint8), bitorder="little")[:n].astype(bool)
    floats = np.where(values == MISSING, np.nan, values.astype(np.float64))
    return CleanDay(day=date(2000, 1, 1), values=floats, imputed=imputed, snapped=0, duplicates=0)


def _abi(name: str) -> list[dict[str, Any]]:
    from lec.chain.contracts import abi

    return abi(name)


def _struct(function: str, contract_abi: Any, values: tuple) -> dict[str, Any]:
    from lec.chain.client import _struct as by_name

    return by_name(function, contract_abi, values)


def run_checks(
    verify: Callable[[dict[str, Any], Web3, Callable[[str, str], None]], None],
    bundle: dict[str, Any],
    w3: Web3,
    report: Callable[[Check], None] | None = None,
) -> list[Check]:
    """Runs `verify`, which calls `passed(name, detail)` after each check and raises `_Failed` (via `_require`) at
    the first that fails; returns the checks in order, each also given to `report` as it is decided."""
    checks: list[Check] = []

    def record(check: Check) -> None:
        checks.append(check)
        if report:
            report(check)

    try:
        verify(bundle, w3, lambda name, detail: record(Check(name, True, detail)))
    except _Failed as failure:
        record(Check(failure.name, False, failure.detail))
    return checks


def verify_bundle(bundle: dict[str, Any], w3: Web3, report: Callable[[Check], None] | None = None) -> list[Check]:
    """Every check of the take-out procedure, in order; stops at the first that fails."""
    return run_checks(_verify, bundle, w3, report)


def _verify(bundle: dict[str, Any], w3: Web3, passed: Callable[[str, str], None]) -> None:
    _require(
        bundle.get("format") == BUNDLE_FORMAT and bundle.get("version") == BUNDLE_VERSION,
        "format",
        f"not a {BUNDLE_FORMAT} v{BUNDLE_VERSION} file",
    )
    passed("format", f"{BUNDLE_FORMAT} v{BUNDLE_VERSION}")
    chain_id = int(w3.eth.chain_id)
    _require(chain_id == bundle["chainId"], "chain", f"node is chain {chain_id}, the bundle is for {bundle['chainId']}")
    passed("chain", f"chain id {chain_id}")

    community, period = int(bundle["communityId"]), int(bundle["periodId"])
    notary = w3.eth.contract(address=Web3.to_checksum_address(bundle["contracts"]["Notary"]), abi=_abi("Notary"))
    models = w3.eth.contract(
        address=Web3.to_checksum_address(bundle["contracts"]["RewardModels"]), abi=_abi("RewardModels")
    )
    version = int(bundle["notarisation"]["version"] or 0)
    tx_hash = bundle["notarisation"]["txHash"]
    _require(bool(tx_hash) and version > 0, "transaction", "the bundle names no notarisation transaction")
    try:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        raise _Failed("transaction", f"the chain has no transaction {tx_hash}") from None
    _require(receipt["status"] == 1, "transaction", f"{tx_hash} reverted")
    _require(
        receipt["to"] is not None and receipt["to"].lower() == notary.address.lower(),
        "transaction",
        f"{tx_hash} was not sent to the Notary {notary.address}",
    )
    _require(
        int(receipt["blockNumber"]) == int(bundle["notarisation"]["block"]),
        "transaction",
        f"{tx_hash} is in block {receipt['blockNumber']}, the bundle says {bundle['notarisation']['block']}",
    )
    # Only the Notary's own logs: the same transaction also carries the token's PeriodOpened event.
    notary_logs = [log for log in receipt["logs"] if log["address"].lower() == notary.address.lower()]
    events = [notary.events.PeriodNotarised().process_log(log) for log in notary_logs if _is_notarised(notary, log)]
    _require(
        any(
            int(e["args"]["communityId"]) == community
            and int(e["args"]["periodId"]) == period
            and int(e["args"]["version"]) == version
            for e in events
        ),
        "transaction",
        f"{tx_hash} did not notarise version {version} of period {period} of community {community}",
    )
    passed("transaction", f"{tx_hash} in block {receipt['blockNumber']} notarised version {version}")

    try:
        record = _struct("record", notary.abi, tuple(notary.functions.record(community, period, version).call()))
    except ContractLogicError:
        raise _Failed("record", f"the Notary has no version {version} of period {period}") from None
    onchain: dict[str, Any] = {
        "dataRoot": "0x" + bytes(record["dataRoot"]).hex(),
        "rewardsRoot": "0x" + bytes(record["rewardsRoot"]).hex(),
        "aggregatesHash": "0x" + bytes(record["aggregatesHash"]).hex(),
        "totalRewards": int(record["totalRewards"]),
        "leafCount": int(record["leafCount"]),
    }
    for key, value in onchain.items():
        claimed = bundle["record"][key]
        _require(
            str(claimed).lower() == str(value).lower(), "record", f"{key} in the bundle is {claimed}, on chain {value}"
        )
    passed("record", f"roots match version {version} on chain")
    latest = int(notary.functions.latestVersion(community, period).call())
    _require(latest == version, "latest-version", f"version {version} was superseded by a correction (v{latest})")
    passed("latest-version", f"version {version} is the latest")

    model_id = int(bundle["model"]["id"])
    _require(
        int(record["modelId"]) == model_id,
        "model",
        f"the period was computed with model {record['modelId']}, the bundle names model {model_id}",
    )
    try:
        onchain_model = _struct("model", models.abi, tuple(models.functions.model(model_id).call()))
    except (ContractLogicError, BadFunctionCallOutput):
        # No such model, or no RewardModels contract at the bundle's address: either way not this model.
        raise _Failed("model", f"RewardModels at {models.address} has no model {model_id}") from None
    params = bundle["model"]["params"]
    _require(
        onchain_model["params"] == params and onchain_model["kind"] == bundle["model"]["kind"],
        "model",
        f"model {model_id} on chain is {onchain_model['kind']} {onchain_model['params']}, the bundle says "
        f"{bundle['model']['kind']} {params}",
    )
    _require(
        bytes(onchain_model["paramsHash"]) == keccak(params.encode()),
        "model",
        "the parameters do not hash to the paramsHash on chain",
    )
    _require(
        str(bundle["model"].get("paramsHash", "")).lower() == "0x" + bytes(onchain_model["paramsHash"]).hex(),
        "model",
        "the bundle's paramsHash is not the one on chain",
    )
    model = RewardModel.from_chain(onchain_model["name"], onchain_model["kind"], onchain_model["params"])
    passed("model", f"model {model_id} ({model.kind}, version {onchain_model['version']}) parameters match")

    agg = bundle["aggregates"]
    arrays = [
        np.array(agg[k], dtype=np.int64)
        for k in ("communityLoad", "communityProduction", "hourlyShared", "hourlyInjection", "hourlyWithdrawal")
    ]
    _require(
        aggregates_hash(period, arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], int(agg["uncappedTotal"]))
        == onchain["aggregatesHash"],
        "aggregates",
        "the community aggregates do not hash to aggregatesHash on chain",
    )
    passed("aggregates", "community aggregates hash to the notarised aggregatesHash")

    day = period_day(period)
    n = len(agg["communityLoad"])
    cleaned: dict[str, CleanDay] = {}
    for device in bundle["devices"]:
        again = clean_day(device["raw"]["timestamps"], device["raw"]["values"], day)
        _require(
            [int(v) for v in again.as_int64()] == device["values"]
            and "0x" + imputed_mask(again.imputed).hex() == device["imputedMask"],
            "cleaning",
            f"cleaning the raw readings of {device['deviceId']} does not give the committed values",
        )
        cleaned[device["deviceId"]] = _cleaned_from_bundle(device, n)
        salt = bytes.fromhex(device["salt"][2:])
        leaf = data_leaf(salt, day, DeviceDay(device["deviceId"], again.as_int64(), again.imputed))
        _require(
            list(leaf) == [x.lower() for x in device["leaf"]],
            "data-leaf",
            f"salt and readings of {device['deviceId']} do not give the bundle's leaf",
        )
        _require(
            StandardMerkleTree.verify(onchain["dataRoot"], DATA_LEAF_ENCODING, leaf, device["proof"]),
            "data-leaf",
            f"the leaf of {device['deviceId']} is not in the notarised data tree",
        )
        _require(
            notary.functions.verifyDataLeaf(community, period, version, leaf[0], leaf[1], device["proof"]).call(),
            "data-leaf",
            f"the Notary rejects the proof of {device['deviceId']}",
        )
    passed("cleaning", f"{len(bundle['devices'])} device(s): raw readings clean to the committed values")
    passed("data-leaf", f"{len(bundle['devices'])} device leaf(s) proven against dataRoot, locally and by the Notary")

    flex_amount = _verify_flexibility(bundle, w3, notary, models, onchain["dataRoot"], version, passed)

    member = bundle["member"]
    inputs = MemberInput(
        member["account"],
        member["profile"],
        bool(member["active"]),
        [DeviceSeries(d["deviceId"], d["quantity"], np.array([]), np.array([])) for d in bundle["devices"]],
    )
    energy = member_energy(inputs, cleaned, n)
    uncapped = member_uncapped(model, energy, arrays[2], arrays[3], arrays[4])
    cap = model.params["max_per_period"]
    total_uncapped = int(agg["uncappedTotal"])
    leaf_amount = int(bundle["reward"]["amount"]) if bundle["reward"] else 0
    amount = leaf_amount - flex_amount  # the energy part of the member's leaf
    if total_uncapped > cap:
        floor = cap * uncapped // total_uncapped
        # The largest-remainder unit depends on the other members' remainders: at most one more unit.
        _require(
            floor <= amount <= floor + 1,
            "reward",
            f"recomputed {floor} (budget-capped share of {uncapped}), the leaf says {amount}",
        )
    else:
        _require(amount == uncapped, "reward", f"recomputed {uncapped}, the leaf says {amount}")
    passed(
        "reward",
        f"recomputed reward {leaf_amount} token units"
        + (f" ({amount} energy + {flex_amount} flexibility)" if bundle.get("flexibility") else ""),
    )
    amount = leaf_amount

    if bundle["reward"]:
        value = (member["account"], amount)
        _require(
            [str(x).lower() for x in bundle["reward"]["leaf"]] == [member["account"].lower(), str(amount)],
            "reward-leaf",
            "the reward leaf names another account or amount",
        )
        _require(
            StandardMerkleTree.verify(onchain["rewardsRoot"], REWARD_LEAF_ENCODING, value, bundle["reward"]["proof"]),
            "reward-leaf",
            "the reward leaf is not in the notarised rewards tree",
        )
        _require(
            notary.functions.verifyRewardLeaf(
                community,
                period,
                version,
                Web3.to_checksum_address(member["account"]),
                amount,
                bundle["reward"]["proof"],
            ).call(),
            "reward-leaf",
            "the Notary rejects the reward proof",
        )
        passed("reward-leaf", "reward leaf proven against rewardsRoot, locally and by the Notary")


def _verify_flexibility(
    bundle: dict[str, Any], w3: Web3, notary: Any, models: Any, data_root: str, version: int, passed: Callable
) -> int:
    """The flexibility checks (docs/proofs.md §8) of a period with demand-response events; the member's
    flexibility reward, the part of its reward leaf that is not energy (0 when the period had no event)."""
    flex = bundle.get("flexibility")
    if not flex:
        return 0
    community, period = int(bundle["communityId"]), int(bundle["periodId"])
    model_id = int(flex["model"]["id"])
    try:
        onchain_model = _struct("model", models.abi, tuple(models.functions.model(model_id).call()))
    except (ContractLogicError, BadFunctionCallOutput):
        raise _Failed("flex-model", f"RewardModels at {models.address} has no model {model_id}") from None
    params = flex["model"]["params"]
    _require(
        onchain_model["kind"] == FLEX_KIND and onchain_model["params"] == params,
        "flex-model",
        f"model {model_id} on chain is {onchain_model['kind']} {onchain_model['params']}, the bundle says "
        f"{FLEX_KIND} {params}",
    )
    params_hash = "0x" + bytes(onchain_model["paramsHash"]).hex()
    _require(
        keccak(params.encode()) == bytes(onchain_model["paramsHash"])
        and str(flex["model"].get("paramsHash", "")).lower() == params_hash,
        "flex-model",
        "the flexibility parameters do not hash to the paramsHash on chain",
    )
    try:
        model = FlexibilityModel(onchain_model["name"], json.loads(params))
    except (ValueError, TypeError) as exc:
        raise _Failed("flex-model", f"model {model_id} is not a valid flexibility model: {exc}") from None
    passed("flex-model", f"flexibility model {model_id} (version {onchain_model['version']}) parameters match")

    def proven(leaf: tuple[str, str], proof: list[str], what: str) -> None:
        _require(
            StandardMerkleTree.verify(data_root, DATA_LEAF_ENCODING, leaf, proof),
            "flex-leaf",
            f"{what} is not in the notarised data tree",
        )
        _require(
            notary.functions.verifyDataLeaf(community, period, version, leaf[0], leaf[1], proof).call(),
            "flex-leaf",
            f"the Notary rejects the proof of {what}",
        )

    uncapped_total, total = int(flex["uncappedTotal"]), int(flex["total"])
    again = period_leaf(period, model_id, params_hash, uncapped_total, total, int(flex["eventLeaves"]))
    _require(
        list(again) == [x.lower() for x in flex["periodLeaf"]],
        "flex-leaf",
        "the flexibility totals do not give the bundle's flexibility period leaf",
    )
    proven(again, flex["periodProof"], "the flexibility period leaf")
    account = bundle["member"]["account"]
    uncapped = 0
    for event in flex["events"]:
        series = [[int(x) for x in event[k]] for k in ("baseline", "metered", "dispatched", "delivered")]
        _require(
            len({len(x) for x in series}) == 1,
            "flex-leaf",
            f"event {event['event']}: baseline, metered, dispatched and delivered differ in length",
        )
        leaf = event_leaf(
            bytes.fromhex(event["salt"][2:]), event["event"], account, period, int(event["start"]), model_id, *series
        )
        _require(
            list(leaf) == [x.lower() for x in event["leaf"]],
            "flex-leaf",
            f"salt and series of event {event['event']} do not give the bundle's leaf",
        )
        proven(leaf, event["proof"], f"the leaf of event {event['event']}")
        _require(
            series[3] == delivered(series[0], series[1], series[2]),
            "flex-reward",
            f"event {event['event']}: the delivery is not min(max(baseline − metered, 0), dispatched)",
        )
        uncapped += event_reward(model.params, series[2], series[3])
    passed("flex-leaf", f"{len(flex['events'])} event leaf(s) and the flexibility period leaf proven against dataRoot")
    amount = int(flex["reward"])
    budget = model.params["max_per_period"]
    if uncapped_total > budget:
        floor = budget * uncapped // uncapped_total
        _require(
            floor <= amount <= floor + 1,
            "flex-reward",
            f"recomputed {floor} (budget-capped share of {uncapped}), the bundle says {amount}",
        )
    else:
        _require(amount == uncapped, "flex-reward", f"recomputed {uncapped}, the bundle says {amount}")
    leaf_amount = int(bundle["reward"]["amount"]) if bundle["reward"] else 0
    _require(amount <= leaf_amount, "flex-reward", f"the reward leaf ({leaf_amount}) is below the flexibility reward")
    passed("flex-reward", f"recomputed flexibility reward {amount} token units")
    return amount
