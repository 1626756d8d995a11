"""One community's settlement period, end to end (DESIGN §5 steps 3–8).

``compute_period`` is the pure core (clean → energies → rewards → salted leaves → trees → aggregates);
``oracle.period.run_period`` adds the I/O around it in a crash-safe order: salts are committed before any tree is
built, the period's files are written before anything is sent, the hash of a sent transaction is saved
before waiting for it, and every write on chain is preceded by a read that makes it a no-op on re-run.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from lec.calendar import period_id, period_start, quarter_hours
from lec.energy import grid_point
from lec.settings import data_dir
from oracle.clean import CleanDay, clean_day
from oracle.kpi import Kpis, compute_kpis
from oracle.proofs.encoding import DATA_LEAF_ENCODING, REWARD_LEAF_ENCODING, DeviceDay, aggregates_hash, data_leaf
from oracle.proofs.merkle import StandardMerkleTree, keccak
from oracle.rewards.models import MemberEnergy, RewardModel, RewardResult, compute_rewards

if TYPE_CHECKING:
    from oracle.flex.settlement import FlexSettlement

Quantity = Literal["load", "production", "exchange", "storage"]
ZERO_ROOT = "0x" + "00" * 32
PERIOD_FORMAT = "lec-period-v1"
PROFILES = ("consumer", "prosumer", "prostormer")


class PeriodError(RuntimeError):
    """A period that cannot be run or does not match what is on chain; the message says what to do."""


@dataclass(frozen=True)
class DeviceSeries:
    """One device's raw readings: Unix seconds and Wh in the report's sign convention."""

    device_id: str  # the POD
    quantity: Quantity
    timestamps: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class MemberInput:
    account: str
    profile: str
    active: bool
    devices: list[DeviceSeries]


@dataclass(frozen=True)
class PeriodInputs:
    chain_community_id: int  # the Registry's id
    day: date
    members: list[MemberInput]


@dataclass(frozen=True)
class ModelRef:
    """The registered model a period is computed with: its on-chain id and parameters."""

    model_id: int
    model: RewardModel

    @property
    def params_hash(self) -> str:
        return "0x" + keccak(self.model.canonical_params.encode()).hex()


@dataclass
class PeriodResult:
    chain_community_id: int  # the Registry's id
    day: date
    model: ModelRef
    # Every leaf's cleaned day, read by the silences' finder. The Spark engine brings back only the days with a gap
    # (values and imputed flags); its gapless days are one shared day of zeros with no gap: read gaps here, not Wh.
    cleaned: dict[str, CleanDay]
    data_tree: StandardMerkleTree | None
    rewards_tree: StandardMerkleTree | None
    rewards: RewardResult | None
    aggregates: dict[str, Any]
    aggregates_hash: str
    kpis: Kpis
    leaves: dict[str, tuple[str, str]] = field(default_factory=dict)
    flex: FlexSettlement | None = None  # the day's demand-response events (oracle.flex.settlement)

    @property
    def period(self) -> int:
        return period_id(self.day)

    @property
    def data_root(self) -> str:
        return self.data_tree.root if self.data_tree else ZERO_ROOT

    @property
    def rewards_root(self) -> str:
        return self.rewards_tree.root if self.rewards_tree else ZERO_ROOT

    @property
    def leaf_count(self) -> int:
        return len(self.data_tree) if self.data_tree else 0

    @property
    def total_rewards(self) -> int:
        return self.rewards.total if self.rewards else 0

    def onchain_fields(self) -> dict[str, Any]:
        return {
            "dataRoot": self.data_root,
            "rewardsRoot": self.rewards_root,
            "aggregatesHash": self.aggregates_hash,
            "modelId": self.model.model_id,
            "totalRewards": self.total_rewards,
            "leafCount": self.leaf_count,
        }


def _known(day: CleanDay) -> np.ndarray:
    """Cleaned Wh with missing quarter hours counted as 0 (rewards never pay for what was not measured)."""
    return np.where(day.missing, 0, np.rint(np.nan_to_num(day.values))).astype(np.int64)


def member_energy(member: MemberInput, cleaned: dict[str, CleanDay], n: int) -> MemberEnergy:
    """Load and production magnitudes and grid exchange of a member, from its devices' cleaned days."""
    point = grid_point(((d.quantity, _known(cleaned[d.device_id])) for d in member.devices), n)
    return MemberEnergy(
        account=member.account,
        profile=member.profile,
        load=point.load,
        production=point.production,
        injection=point.injection,
        withdrawal=point.withdrawal,
        active=member.active,
    )


def _meter_matrix(readings: list[np.ndarray | None], n: int) -> np.ndarray:
    """Exchange-meter readings, one row per member, NaN for a member without one (its exchange is then
    derived from load and production): the KPIs see the grid meters the rewards see."""
    return np.stack([np.full(n, np.nan) if r is None else r.astype(float) for r in readings])


def clean_inputs(inputs: PeriodInputs) -> dict[str, CleanDay]:
    cleaned = {}
    for member in inputs.members:
        for device in member.devices:
            if device.device_id in cleaned:
                raise PeriodError(f"Device {device.device_id} appears twice in the period's inputs.")
            cleaned[device.device_id] = clean_day(device.timestamps, device.values, inputs.day)
    return cleaned


def with_flexibility(rewards: RewardResult | None, amounts: dict[str, int]) -> RewardResult | None:
    """The energy rewards with each member's flexibility reward added to its amount (one leaf per member); a
    member with a flexibility reward and no energy row gets one, zero everywhere but its amount."""
    if not amounts:
        return rewards
    if rewards is None:
        raise PeriodError("Flexibility rewards need the period's members: the period has none.")
    known = set(rewards.accounts)
    extra = [a for a in sorted(amounts, key=lambda a: int(a, 16)) if a not in known]
    zeros = [0] * len(extra)

    def padded(column: list[int]) -> list[int]:
        # The Spark engine brings back amounts only: its empty per-member detail columns stay empty.
        return [*column, *zeros] if len(column) == len(rewards.accounts) else column

    return dataclasses.replace(
        rewards,
        accounts=[*rewards.accounts, *extra],
        amounts=[x + amounts.get(a, 0) for a, x in zip(rewards.accounts, rewards.amounts, strict=True)]
        + [amounts[a] for a in extra],
        self_consumption_wh=padded(rewards.self_consumption_wh),
        shared_as_producer_mwh=padded(rewards.shared_as_producer_mwh),
        shared_as_consumer_mwh=padded(rewards.shared_as_consumer_mwh),
        par_bps=padded(rewards.par_bps),
        bonus=padded(rewards.bonus),
        uncapped=[*rewards.uncapped, *zeros],
    )


def compute_period(
    inputs: PeriodInputs, model: ModelRef, salts: dict[str, bytes], flex: FlexSettlement | None = None
) -> PeriodResult:
    """Everything that is committed for a period, from raw readings, a model and the devices' salts; with the
    day's flexibility settlement, its leaves join the data tree and its rewards the members' reward leaves."""
    day = inputs.day
    n = quarter_hours(day)
    cleaned = clean_inputs(inputs)
    missing_salts = sorted(set(cleaned) - set(salts))
    if missing_salts:
        raise PeriodError(f"No salt for devices {missing_salts[:5]}: salts must be stored before computing.")

    leaves = {
        device_id: data_leaf(salts[device_id], day, DeviceDay(device_id, c.as_int64(), c.imputed))
        for device_id, c in cleaned.items()
    }
    energies = [member_energy(m, cleaned, n) for m in inputs.members]
    rewards = compute_rewards(model.model, energies) if energies else None
    load = np.sum([e.load for e in energies], axis=0) if energies else np.zeros(n, dtype=np.int64)
    prod = np.sum([e.production for e in energies], axis=0) if energies else np.zeros(n, dtype=np.int64)
    grid = period_start(day) + 900 * np.arange(n, dtype=np.int64)
    if energies:
        kpis = compute_kpis(
            grid,
            np.stack([e.load for e in energies]).astype(float),
            np.stack([e.production for e in energies]).astype(float),
            _meter_matrix([e.injection for e in energies], n),
            _meter_matrix([e.withdrawal for e in energies], n),
            imputed_intervals=int(sum(int(c.imputed.sum()) for c in cleaned.values())),
        )
        kpis = dataclasses.replace(kpis, missing_intervals=int(sum(int(c.missing.sum()) for c in cleaned.values())))
    else:
        kpis = compute_kpis(grid, np.zeros((1, n)), np.zeros((1, n)))
    return period_result(inputs.chain_community_id, day, model, leaves, rewards, load, prod, kpis, cleaned, flex)


def period_result(
    chain_community_id: int,
    day: date,
    model: ModelRef,
    leaves: dict[str, tuple[str, str]],
    rewards: RewardResult | None,
    load: np.ndarray,
    prod: np.ndarray,
    kpis: Kpis,
    cleaned: dict[str, CleanDay] | None = None,
    flex: FlexSettlement | None = None,
) -> PeriodResult:
    """The committed part of a period from its leaves, rewards and community totals: both trees and the
    aggregates. Both engines end here (``oracle.spark.engine`` brings the same pieces from its workers). With the
    day's flexibility settlement, its leaves join the data tree and its rewards the members' reward leaves."""
    if flex is not None:
        leaves = {**leaves, **flex.leaves}
        rewards = with_flexibility(rewards, flex.amounts)
    n = quarter_hours(day)
    ordered = sorted(leaves)
    data_tree = StandardMerkleTree.of([leaves[d] for d in ordered], DATA_LEAF_ENCODING) if ordered else None
    paid = [(a, x) for a, x in zip(rewards.accounts, rewards.amounts, strict=True) if x > 0] if rewards else []
    rewards_tree = StandardMerkleTree.of(paid, REWARD_LEAF_ENCODING) if paid else None
    hours = n // 4
    zeros_h = np.zeros(hours, dtype=np.int64)
    shared = rewards.hourly_shared_wh if rewards else zeros_h
    injected = rewards.hourly_injection_wh if rewards else zeros_h
    withdrawn = rewards.hourly_withdrawal_wh if rewards else zeros_h
    uncapped = sum(rewards.uncapped) if rewards else 0
    # The report's sign convention: production is negative.
    aggregates = {
        "communityLoad": [int(x) for x in load],
        "communityProduction": [int(-x) for x in prod],
        "hourlyShared": [int(x) for x in shared],
        "hourlyInjection": [int(x) for x in injected],
        "hourlyWithdrawal": [int(x) for x in withdrawn],
        "uncappedTotal": int(uncapped),
    }
    agg_hash = aggregates_hash(
        period_id(day), load, -prod, np.asarray(shared), np.asarray(injected), np.asarray(withdrawn), uncapped
    )
    return PeriodResult(
        chain_community_id=chain_community_id,
        day=day,
        model=model,
        cleaned=cleaned if cleaned is not None else {},
        data_tree=data_tree,
        rewards_tree=rewards_tree,
        rewards=rewards,
        aggregates=aggregates,
        aggregates_hash=agg_hash,
        kpis=kpis,
        leaves=leaves,
        flex=flex,
    )


# ---------------------------------------------------------------------------------------------- files


def periods_dir(chain_community_id: int, base: Path | None = None) -> Path:
    """``LEC_DATA_DIR/periods/<on-chain community id>/``: every period of a community, one folder a day."""
    return (base or data_dir()) / "periods" / str(chain_community_id)


def period_dir(chain_community_id: int, day: date, base: Path | None = None) -> Path:
    """``LEC_DATA_DIR/periods/<on-chain community id>/<YYYY-MM-DD>/``."""
    return periods_dir(chain_community_id, base) / day.isoformat()


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a crash leaves the previous file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise PeriodError(f"{path} does not exist: run `lec oracle run` for that period first.") from exc


def write_period_files(result: PeriodResult, chain_id: int | None, base: Path | None = None) -> Path:
    """data.json and rewards.json (OpenZeppelin standard-v1 dumps) and period.json (the record)."""
    folder = period_dir(result.chain_community_id, result.day, base)
    if result.data_tree:
        write_json(folder / "data.json", result.data_tree.dump())
    if result.rewards_tree:
        write_json(folder / "rewards.json", result.rewards_tree.dump())
    if result.flex is not None:
        write_json(folder / "flex.json", result.flex.details())
    elif (folder / "flex.json").exists():
        (folder / "flex.json").unlink()
    summary_path = folder / "period.json"
    previous = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    summary = {
        "format": PERIOD_FORMAT,
        "chainId": chain_id,
        "communityId": result.chain_community_id,
        "periodId": result.period,
        "date": result.day.isoformat(),
        "start": period_start(result.day),
        "step": 900,
        "model": {
            "id": result.model.model_id,
            "name": result.model.model.name,
            "kind": result.model.model.kind,
            "params": result.model.model.canonical_params,
            "paramsHash": result.model.params_hash,
        },
        **result.onchain_fields(),
        "aggregates": result.aggregates,
        "kpis": result.kpis.as_dict(),
        "capped": bool(result.rewards.capped) if result.rewards else False,
        "flexibility": result.flex.summary() if result.flex is not None else None,
        # What happened on chain survives a re-computation of the same period.
        "notarisation": previous.get("notarisation"),
        "claims": previous.get("claims", {}),
    }
    write_json(summary_path, summary)
    return folder


def update_summary(folder: Path, **changes: Any) -> dict[str, Any]:
    summary = read_json(folder / "period.json")
    summary.update(changes)
    write_json(folder / "period.json", summary)
    return summary


# ------------------------------------------------------------------------------------------- publish

Progress = Callable[[str], None]


def _mismatches(local: dict[str, Any], record: Any) -> list[str]:
    onchain = {
        "dataRoot": record.data_root,
        "rewardsRoot": record.rewards_root,
        "aggregatesHash": record.aggregates_hash,
        "modelId": record.model_id,
        "totalRewards": record.total_rewards,
        "leafCount": record.leaf_count,
    }
    return [f"{k} (local {local[k]}, on chain {v})" for k, v in onchain.items() if local[k] != v]


def publish(client: Any, result: PeriodResult, folder: Path, correction_reason: str | None, say: Progress) -> dict:
    """Notarise the period once; on re-run verify it against the chain instead of sending again."""
    summary = read_json(folder / "period.json")
    pending = (summary.get("notarisation") or {}).get("pendingTx")
    if pending:
        say(f"Waiting for the notarisation sent earlier ({pending}) …")
        done = client.receipt_if_known(pending)
        if done is not None:
            version = client.latest_version(result.chain_community_id, result.period)
            summary = update_summary(
                folder, notarisation={"txHash": done.tx_hash, "block": done.block_number, "version": version}
            )
    version = client.latest_version(result.chain_community_id, result.period)
    local = result.onchain_fields()
    if version:
        record = client.record(result.chain_community_id, result.period, version)
        diffs = _mismatches(local, record)
        if not diffs:
            notarisation = summary.get("notarisation") or {}
            if notarisation.get("version") != version or not notarisation.get("txHash"):
                found = client.find_notarisation(result.chain_community_id, result.period, version)
                notarisation = {
                    "txHash": found.tx_hash if found else None,
                    "block": found.block_number if found else None,
                    "version": version,
                }
                summary = update_summary(folder, notarisation=notarisation)
            say(f"Period {result.period} is already notarised (version {version}) and matches: nothing sent.")
            return summary["notarisation"]
        if not correction_reason:
            raise PeriodError(
                f"Period {result.period} of community {result.chain_community_id} was notarised (version {version}) "
                f"with different values: {'; '.join(diffs)}. If the readings were corrected, re-run with "
                "--correct REASON to publish a new version."
            )
        say(f"Publishing a correction of period {result.period} (version {version} → {version + 1}) …")
    else:
        say(f"Notarising period {result.period} …")

    def remember(tx_hash: str) -> None:
        update_summary(folder, notarisation={"pendingTx": tx_hash})

    tx = client.notarise(
        result.chain_community_id,
        result.period,
        local["dataRoot"],
        local["rewardsRoot"],
        local["aggregatesHash"],
        local["modelId"],
        local["totalRewards"],
        local["leafCount"],
        on_sent=remember,
        correction_reason=correction_reason if version else None,
    )
    new_version = client.latest_version(result.chain_community_id, result.period)
    notarisation = {"txHash": tx.tx_hash, "block": tx.block_number, "version": new_version}
    update_summary(folder, notarisation=notarisation)
    return notarisation


def submit_claims(client: Any, result: PeriodResult, folder: Path, say: Progress) -> dict[str, str]:
    """Claim every reward leaf on behalf of its member (tokens always go to the member); skip paid ones.

    A member paid more than its leaf (a correction lowered it after it claimed) keeps the tokens; its over-payment
    is recorded on chain for the community admin (docs/proofs.md, "Claims and corrections")."""
    if result.rewards_tree is None:
        return {}
    claims: dict[str, str] = dict(read_json(folder / "period.json").get("claims", {}))
    values = result.rewards_tree.values
    active = client.member_profiles(result.chain_community_id, [str(v[0]) for v in values])
    sent = skipped = 0
    refused: list[str] = []
    for index, (leaf_account, leaf_amount) in enumerate(values):
        account, amount = str(leaf_account), int(leaf_amount)
        paid = client.claimed(result.chain_community_id, result.period, account)
        if paid >= amount:
            skipped += 1
            if paid > amount and client.overpaid(result.chain_community_id, result.period, account) != paid - amount:
                proof = result.rewards_tree.get_proof(index)
                try:
                    client.record_overpayment(result.chain_community_id, account, result.period, amount, proof)
                    say(f"  {account} was paid {paid - amount} units above its corrected reward: recorded.")
                except RuntimeError as exc:
                    say(f"  the over-payment of {account} could not be recorded: {exc}")
            continue
        if not active[account][0]:
            say(f"  {account} is not an active member on chain: its reward stays unclaimed.")
            continue
        proof = result.rewards_tree.get_proof(index)
        try:
            tx = client.claim_for(result.chain_community_id, account, result.period, amount, proof)
        except RuntimeError as exc:  # one refused claim (e.g. a correction's total exhausted) stops no other
            say(f"  claim of {account} refused: {exc}")
            refused.append(account)
            continue
        claims[account] = tx.tx_hash
        update_summary(folder, claims=claims)
        sent += 1
        if sent % 100 == 0:
            say(f"  claims: {index + 1}/{len(values)} leaves done")
    say(f"Claims: {sent} sent, {skipped} already paid, {len(refused)} refused.")
    if refused:
        raise PeriodError(
            f"{len(refused)} claim(s) were refused by the token ({', '.join(refused[:3])}…): see the messages above; "
            "members can still claim themselves once the cause is fixed."
        )
    return claims
