"""What the wallet page computes before asking the wallet: fee previews and reward claims to submit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dapp.components.calls import CallError, checksum
from dapp.i18n import t
from dapp.views.deals import hours


@dataclass(frozen=True)
class FeePreview:
    """What a member transfer does, shown before signing: the fee goes to the community treasury."""

    amount: int
    fee: int

    @property
    def received(self) -> int:
        return self.amount - self.fee

    def sentence(self, fee_bps: int, language: str | None = None) -> str:
        """The preview a member reads before signing, in hours of the time bank."""
        return t(
            "wallet.fee_preview",
            language,
            amount=hours(self.amount),
            fee=hours(self.fee),
            pct=f"{fee_bps / 100:.2f}",
            received=hours(self.received),
        )


@dataclass(frozen=True)
class RewardClaim:
    """One leaf of a period's rewards tree with its proof, as the API (or a proof bundle) gives it."""

    period_id: int
    account: str
    amount: int
    proof: list[str]

    def due(self, already_claimed: int) -> int:
        """What a claim mints now: after a correction only the difference to what was already claimed."""
        return max(self.amount - already_claimed, 0)


def _first(mapping: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def parse_reward_claim(payload: dict[str, Any] | str | bytes) -> RewardClaim:
    """A reward claim from a proof bundle (the API's bundle route, `lec oracle bundle`) or a bare reward leaf."""
    try:
        data = json.loads(payload) if isinstance(payload, str | bytes) else payload
    except json.JSONDecodeError as exc:
        raise CallError(f"The proof file is not JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(data, dict):
        raise CallError("The proof file must be a JSON object with the period, account, amount and proof.")
    if "reward" in data and data["reward"] is None:
        raise CallError("This bundle has no reward for the member: nothing to claim for that period.")
    raw_reward, raw_member = data.get("reward"), data.get("member")
    reward: dict[str, Any] = raw_reward if isinstance(raw_reward, dict) else data
    period = _first(reward, "periodId", "period_id") or _first(data, "periodId", "period_id")
    leaf = reward.get("leaf") if isinstance(reward.get("leaf"), list) else []
    member: dict[str, Any] = raw_member if isinstance(raw_member, dict) else {}
    account = _first(reward, "account", "wallet") or (leaf[0] if leaf else None) or member.get("account")
    amount = _first(reward, "amount", "amount_units")
    proof = _first(reward, "proof", "rewardProof", "reward_proof")
    missing = [
        n for n, v in (("period", period), ("account", account), ("amount", amount), ("proof", proof)) if v is None
    ]
    if missing:
        raise CallError(f"The proof file has no {', '.join(missing)}: use the reward proof the platform gave you.")
    if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
        raise CallError("The proof must be a list of 0x-hex strings.")
    try:
        period_id, units = int(period), int(amount)
    except (TypeError, ValueError) as exc:
        raise CallError("The period and the amount of a reward proof are whole numbers.") from exc
    if units <= 0:
        raise CallError("The reward amount of a proof is positive.")
    return RewardClaim(period_id=period_id, account=checksum(str(account)), amount=units, proof=proof)
