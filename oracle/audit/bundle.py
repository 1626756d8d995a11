"""The oracle's side of the take-out procedure: a member's proof bundle for one period.

The bundle holds the member's raw readings, salts and leaf proofs, the community aggregates, the model
and the notarising transaction: everything `lec verify` (``oracle.audit.verify``) needs, and nothing of
the other members.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session

from lec.calendar import period_id
from lec.chain.contracts import load_deployments
from oracle.audit import BUNDLE_FORMAT, BUNDLE_VERSION
from oracle.clean import clean_day
from oracle.pipeline import PeriodError, PeriodInputs, period_dir, read_json
from oracle.proofs.encoding import DeviceDay, data_leaf, imputed_mask
from oracle.proofs.merkle import StandardMerkleTree
from oracle.proofs.store import get_salts
from oracle.sources import load_inputs


def make_bundle(inputs: PeriodInputs, account: str, salts: dict[str, bytes], base: Path | None = None) -> dict:
    """The proof bundle of ``account`` for a period already run (and normally notarised)."""
    folder = period_dir(inputs.chain_community_id, inputs.day, base)
    summary = read_json(folder / "period.json")
    wanted = account.lower()
    member = next((m for m in inputs.members if m.account.lower() == wanted), None)
    if member is None:
        raise PeriodError(
            f"{account} is not a member of community {inputs.chain_community_id} with readings to bundle."
        )
    data_tree = StandardMerkleTree.load(read_json(folder / "data.json")) if (folder / "data.json").exists() else None
    devices = []
    for device in member.devices:
        if device.device_id not in salts:
            raise PeriodError(
                f"No salt for device {device.device_id} in period {summary['periodId']}: it was erased "
                "(right to be forgotten) or the period was never run."
            )
        cleaned = clean_day(device.timestamps, device.values, inputs.day)
        values = cleaned.as_int64()
        leaf = data_leaf(salts[device.device_id], inputs.day, DeviceDay(device.device_id, values, cleaned.imputed))
        if data_tree is None:
            raise PeriodError("The period has no data tree; re-run it with `lec oracle run`.")
        try:
            proof = data_tree.get_proof(leaf)
        except ValueError as exc:
            raise PeriodError(
                f"Device {device.device_id}'s readings no longer match its committed leaf (were they changed "
                "after the run?). Re-run the period and publish a correction."
            ) from exc
        devices.append(
            {
                "deviceId": device.device_id,
                "quantity": device.quantity,
                "salt": "0x" + salts[device.device_id].hex(),
                "raw": {"timestamps": [int(t) for t in device.timestamps], "values": [float(v) for v in device.values]},
                "values": [int(v) for v in values],
                "imputedMask": "0x" + imputed_mask(cleaned.imputed).hex(),
                "leaf": list(leaf),
                "proof": proof,
            }
        )
    reward = None
    if (folder / "rewards.json").exists():
        tree = StandardMerkleTree.load(read_json(folder / "rewards.json"))
        for index, (leaf_account, amount) in enumerate(tree.values):
            if str(leaf_account).lower() == wanted:
                reward = {"amount": str(amount), "leaf": [leaf_account, str(amount)], "proof": tree.get_proof(index)}
    notarisation = summary.get("notarisation") or {}
    flexibility = flex_section(folder, member.account, data_tree, salts) if summary.get("flexibility") else None
    contracts = load_deployments(summary["chainId"])["contracts"] if summary.get("chainId") else {}
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "chainId": summary.get("chainId"),
        "contracts": contracts,
        "notarisation": {k: notarisation.get(k) for k in ("txHash", "block", "version")},
        "communityId": summary["communityId"],
        "periodId": summary["periodId"],
        "start": summary["start"],
        "step": summary["step"],
        "model": summary["model"],
        "record": {k: summary[k] for k in ("dataRoot", "rewardsRoot", "aggregatesHash", "totalRewards", "leafCount")},
        "aggregates": summary["aggregates"],
        "member": {"account": member.account, "profile": member.profile, "active": member.active},
        "devices": devices,
        "reward": reward,
        "flexibility": flexibility,
    }


def flex_section(folder: Path, account: str, data_tree: StandardMerkleTree | None, salts: dict[str, bytes]) -> dict:
    """The period's flexibility commitments for one member (docs/proofs.md §8): the community's flexibility
    period leaf, the member's own event leaves with their salts and series, and its flexibility reward."""
    from oracle.flex.settlement import salt_id

    details = read_json(folder / "flex.json")
    if data_tree is None:
        raise PeriodError("The period has no data tree; re-run it with `lec oracle run`.")
    wanted = account.lower()
    events = []
    for event in details["events"]:
        for row in event["members"]:
            if row["account"].lower() != wanted:
                continue
            sid = salt_id(event["event"], row["account"])
            if sid not in salts:
                raise PeriodError(f"No salt for the flexibility leaf of event {event['event']}: it was erased.")
            events.append(
                {
                    "event": event["event"],
                    "start": event["start"],
                    "salt": "0x" + salts[sid].hex(),
                    **{k: row[k] for k in ("baseline", "metered", "dispatched", "delivered", "leaf")},
                    "proof": data_tree.get_proof(tuple(row["leaf"])),
                }
            )
    period_leaf = tuple(details["periodLeaf"])
    amount = next((x for a, x in details["rewards"].items() if a.lower() == wanted), "0")
    return {
        "model": details["model"],
        "uncappedTotal": details["uncappedTotal"],
        "total": details["total"],
        "eventLeaves": details["eventLeaves"],
        "periodLeaf": list(period_leaf),
        "periodProof": data_tree.get_proof(period_leaf),
        "events": events,
        "reward": str(amount),
    }


def member_bundle(session: Session, chain_community_id: int, day: date, account: str) -> dict:
    """The bundle of ``account`` for a period already run, its readings and salts read from the database."""
    inputs = load_inputs(session, chain_community_id, day)
    salts = get_salts(session, chain_community_id, period_id(day))
    return make_bundle(inputs, account, salts)
