"""What a member may do with a marketplace deal, decided from the contract's deal record (pure), and the words a
resident reads about it: its title (from the off-chain listing its hash points to), kind, category and state."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dapp.i18n import t

STATES = ["none", "open", "accepted", "completed", "disputed", "settled", "cancelled", "resolved"]
SIDES = ["offer", "request", "task"]
ZERO = "0x" + "0" * 40
OPEN, ACCEPTED, COMPLETED, DISPUTED, SETTLED, CANCELLED, RESOLVED = 1, 2, 3, 4, 5, 6, 7
OFFER, REQUEST, TASK = 0, 1, 2
MEMBER_CATEGORIES = (0, 1, 2, 3, 4)
TASK_CATEGORIES = (5, 6, 7)
UNIT = 10**18


def hours(units: int) -> str:
    """Token units as hours for a resident: at least 2 and at most 4 decimals, never base units ("2.50", "0.0125")."""
    value = (Decimal(units) / UNIT).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    text = f"{value:,.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text


def category_name(category: int) -> str:
    return t(f"deals.category_{category}")


def state_name(state: int) -> str:
    return t(f"deals.state_{STATES[state]}")


def side_name(side: int) -> str:
    return t(f"deals.side_{SIDES[side]}")


def with_titles(chain_deals: list[dict[str, Any]], listings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chain's deals with the title and text of the listing whose hash they carry (or a numbered title)."""
    by_hash = {str(li["description_hash"]).lower(): li for li in listings}
    joined = []
    for d in chain_deals:
        raw = d.get("descriptionHash", b"")
        key = ("0x" + raw.hex()) if isinstance(raw, bytes | bytearray) else str(raw)
        listing = by_hash.get(key.lower())
        joined.append(
            {
                **d,
                "title": listing["title"] if listing else t("deals.untitled", id=d["id"]),
                "description": listing["description"] if listing else "",
                "availability": listing.get("availability", "") if listing else "",
            }
        )
    return joined


def involves(deal: dict[str, Any], account: str) -> bool:
    """A deal the account is party to, or an open one it may take (reserved to it, or to nobody)."""
    me = account.lower()
    parties = {deal["provider"].lower(), deal["payer"].lower()}
    if me in parties:
        return True
    return deal["state"] == OPEN and (ZERO in parties)


def is_party(deal: dict[str, Any], account: str) -> bool:
    return account.lower() in {deal["provider"].lower(), deal["payer"].lower()}


def creator(deal: dict[str, Any]) -> str:
    """Who created the deal: the provider of an offer, the payer of a request (the treasury for a task)."""
    return deal["provider"] if deal["side"] == OFFER else deal["payer"]


def actions(deal: dict[str, Any], account: str) -> list[str]:
    """The steps the account may take now: accept, complete, confirm, dispute (the contract checks again)."""
    me = account.lower()
    provider, payer = deal["provider"].lower(), deal["payer"].lower()
    found = []
    if deal["state"] == OPEN:
        taker = payer if deal["side"] == OFFER else provider
        made_by = provider if deal["side"] == OFFER else payer
        if me != made_by and taker in (ZERO, me):
            found.append("accept")
    if deal["state"] == ACCEPTED and me == provider:
        found.append("complete")
    if deal["state"] in (ACCEPTED, COMPLETED) and me == payer:
        found.append("confirm")
    if deal["state"] in (ACCEPTED, COMPLETED) and me in (provider, payer):
        found.append("dispute")
    return found


def next_step(deal: dict[str, Any], account: str) -> str:
    """What the account should do next on the deal, in a sentence."""
    me = account.lower()
    provider, payer = deal["provider"].lower(), deal["payer"].lower()
    state = deal["state"]
    if state == OPEN:
        return t("deals.next_open_mine") if me in (provider, payer) else t("deals.next_open_other")
    if state == ACCEPTED:
        return t("deals.next_accepted_provider") if me == provider else t("deals.next_accepted_payer")
    if state == COMPLETED:
        return t("deals.next_completed_payer") if me == payer else t("deals.next_completed_provider")
    if state == DISPUTED:
        return t("deals.next_disputed")
    if state in (SETTLED, RESOLVED):
        return t("deals.next_settled")
    return t("deals.next_closed")


def pays_on_accept(deal: dict[str, Any]) -> bool:
    """Accepting an offer puts its price in escrow from the accepting payer (an ERC20 approval first)."""
    return deal["state"] == OPEN and deal["side"] == OFFER
