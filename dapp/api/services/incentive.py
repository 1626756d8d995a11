"""The incentive route's use case: the oracle's incentive service on the caller's community, its refusals as 422."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from dapp.api.errors import invalid, not_found
from lec.db.models import Community
from oracle.incentive.prices import parse_prices
from oracle.incentive.rules import IncentiveError
from oracle.incentive.service import as_json, community_incentive


def incentive_report(
    session: Session,
    community: Community,
    start: date,
    end: date,
    prices_csv: str | None = None,
    key: str | None = None,
    allocation: str | None = None,
) -> dict[str, Any]:
    if community.chain_community_id is None:
        raise not_found(f"Community {community.id} is not on chain yet: it has no incentive to compute.")
    try:
        prices = parse_prices(prices_csv) if prices_csv else None
        result = community_incentive(session, community.chain_community_id, start, end, prices, key, allocation)
    except IncentiveError as exc:
        raise invalid(str(exc)) from exc
    return as_json(result, community.chain_community_id, start, end)
