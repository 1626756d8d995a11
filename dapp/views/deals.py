"""What a member may do with a marketplace deal, decided from the contract's deal record (pure)."""

from __future__ import annotations

from typing import Any

STATES = ["none", "open", "accepted", "completed", "disputed", "settled", "cancelled", "resolved"]
SIDES = ["offer", "request", "task"]
ZERO = "0x" + "0" * 40
OPEN, ACCEPTED, COMPLETED = 1, 2, 3
OFFER = 0


def involves(deal: dict[str, Any], account: str) -> bool:
    """A deal the account is party to, or an open one it may take (reserved to it, or to nobody)."""
    me = account.lower()
    parties = {deal["provider"].lower(), deal["payer"].lower()}
    if me in parties:
        return True
    return deal["state"] == OPEN and (ZERO in parties)


def actions(deal: dict[str, Any], account: str) -> list[str]:
    """The steps the account may take now: accept, complete, confirm, dispute (the contract checks again)."""
    me = account.lower()
    provider, payer = deal["provider"].lower(), deal["payer"].lower()
    found = []
    if deal["state"] == OPEN:
        taker = payer if deal["side"] == OFFER else provider
        creator = provider if deal["side"] == OFFER else payer
        if me != creator and taker in (ZERO, me):
            found.append("accept")
    if deal["state"] == ACCEPTED and me == provider:
        found.append("complete")
    if deal["state"] in (ACCEPTED, COMPLETED) and me == payer:
        found.append("confirm")
    if deal["state"] in (ACCEPTED, COMPLETED) and me in (provider, payer):
        found.append("dispute")
    return found


def pays_on_accept(deal: dict[str, Any]) -> bool:
    """Accepting an offer puts its price in escrow from the accepting payer (an ERC20 approval first)."""
    return deal["state"] == OPEN and deal["side"] == OFFER
