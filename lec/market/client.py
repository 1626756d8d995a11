"""Client of a community's Marketplace contract for the API: reads deals and previews, and builds the unsigned
transactions a member's wallet signs (MetaMask) or a service account sends. web3.py, ABIs from ape's build."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from lec.chain.contracts import abi
from lec.market.hashing import description_hash
from lec.market.policy import DealState, Side, Split

ZERO = "0x" + "00" * 20


@dataclass(frozen=True)
class DealView:
    """A deal as the chain holds it; `payer` is the treasury (the token's address) for community tasks."""

    id: int
    provider: str | None
    payer: str | None
    venue: str | None
    category: int
    state: DealState
    side: Side
    price: int
    cashback_bps: int
    fee_bps: int
    venue_bps: int
    incentive_bps: int
    updated_at: int
    description_hash: str
    profile_weight_bps: int = 0  # the citizen's energy-profile weight, frozen in escrow (stakeholder→citizen)
    rules_id: int = 0  # the marketplace's rules (windows, expiry rule) the deal was created under

    def matches(self, title: str, description: str) -> bool:
        """Whether an off-chain title and description are the ones this deal was created with."""
        return self.description_hash == "0x" + description_hash(title, description).hex()


def _address(value: str) -> str | None:
    return None if int(value, 16) == 0 else to_checksum_address(value)


class MarketClient:
    """One community's marketplace at `address`."""

    def __init__(self, w3: Web3, address: str):
        self.w3 = w3
        self.contract = w3.eth.contract(address=to_checksum_address(address), abi=abi("Marketplace"))

    def deal_count(self) -> int:
        return self.contract.functions.dealCount().call()

    def deal(self, deal_id: int) -> DealView:
        """Deal `deal_id`; a sentence-bearing LookupError when it does not exist."""
        raw = self.contract.functions.deal(deal_id).call()
        (provider, updated_at, category, state, side, payer, cashback, fee, venue_bps, incentive, *frozen) = raw[:12]
        weight, rules_id = frozen
        venue, price, h = raw[12:]
        if state == DealState.NONE:
            raise LookupError(f"There is no deal {deal_id} in this marketplace (it has {self.deal_count()}).")
        return DealView(
            deal_id,
            _address(provider),
            _address(payer),
            _address(venue),
            category,
            DealState(state),
            Side(side),
            price,
            cashback,
            fee,
            venue_bps,
            incentive,
            updated_at,
            "0x" + bytes(h).hex(),
            weight,
            rules_id,
        )

    def deals(self, first: int = 1, last: int | None = None) -> list[DealView]:
        """Deals `first` … `last` (default: all)."""
        last = self.deal_count() if last is None else last
        return [self.deal(i) for i in range(first, last + 1)]

    def escrow_total(self) -> int:
        return self.contract.functions.escrowTotal().call()

    def preview(self, deal_id: int) -> tuple[Split, str | None]:
        """How the deal would settle now on its frozen terms (incentive within fee + budget, before the treasury's
        cap) and who gets the incentive."""
        (to_provider, fee, venue_share, cashback, incentive), incentive_to = self.contract.functions.previewSettlement(
            deal_id
        ).call()
        return Split(to_provider, fee, venue_share, cashback, incentive), _address(incentive_to)

    def expiry_of(self, deal_id: int) -> int | None:
        """When anyone may close the deal for expiry (Unix time), or None when no deadline runs."""
        return self.contract.functions.expiryOf(deal_id).call() or None

    # ------------------------------------------------------------------ unsigned transactions

    def _tx(self, sender: str, function: str, *args: Any) -> dict[str, Any]:
        return getattr(self.contract.functions, function)(*args).build_transaction(
            {"from": to_checksum_address(sender)}
        )

    def offer_tx(
        self,
        sender: str,
        category: int,
        price: int,
        title: str,
        description: str,
        *,
        counterparty: str | None = None,
        venue: str | None = None,
        cashback_bps: int = 0,
    ) -> dict[str, Any]:
        """An offer as provider; the description's hash goes on chain."""
        return self._tx(
            sender,
            "offer",
            category,
            price,
            description_hash(title, description),
            to_checksum_address(counterparty or ZERO),
            to_checksum_address(venue or ZERO),
            cashback_bps,
        )

    def request_tx(
        self,
        sender: str,
        category: int,
        price: int,
        title: str,
        description: str,
        *,
        counterparty: str | None = None,
        venue: str | None = None,
    ) -> dict[str, Any]:
        """A request as payer: the price goes into escrow (the token must be approved first)."""
        return self._tx(
            sender,
            "request",
            category,
            price,
            description_hash(title, description),
            to_checksum_address(counterparty or ZERO),
            to_checksum_address(venue or ZERO),
        )

    def action_tx(self, sender: str, action: str, deal_id: int) -> dict[str, Any]:
        """accept | complete | confirm | cancel | dispute | expire on deal `deal_id`."""
        if action not in {"accept", "complete", "confirm", "cancel", "dispute", "expire"}:
            raise ValueError(
                f"{action!r} is not a deal action; use accept, complete, confirm, cancel, dispute or expire."
            )
        return self._tx(sender, action, deal_id)
