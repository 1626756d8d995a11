"""Notarised periods, proof bundles (a member gets only their own; an auditor any) and bundle verification."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Query
from web3 import Web3

from dapp.api.deps import CommunityAccess, CommunityReader, PrincipalDep, SessionDep, SettingsDep
from dapp.api.errors import AUTH_ERRORS, CHAIN_DOWN, ERRORS, chain_down, forbidden, invalid, not_found
from dapp.api.guards import GuardedRoute
from dapp.api.roles import AUDITOR
from dapp.api.schemas.periods import CheckPublic, PeriodId, PeriodPublic, VerifyRequest, VerifyResult
from dapp.api.services import communities
from lec.calendar import period_day
from oracle.pipeline import PeriodError, periods_dir

log = logging.getLogger(__name__)

router = APIRouter(tags=["periods"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute)


def _summary(path: Path) -> PeriodPublic:
    s = json.loads(path.read_text())
    return PeriodPublic(
        period_id=s["periodId"],
        date=s["date"],
        model=s.get("model", {}),
        data_root=s.get("dataRoot"),
        rewards_root=s.get("rewardsRoot"),
        aggregates_hash=s.get("aggregatesHash"),
        total_rewards=None if s.get("totalRewards") is None else str(s["totalRewards"]),
        leaf_count=s.get("leafCount"),
        notarisation=s.get("notarisation"),
    )


def _chain_community_id(access: CommunityAccess) -> int:
    """Periods are computed and stored per Registry community id."""
    return communities.chain_community_id(access.community, "it has no periods")


@router.get("/communities/{community_id}/periods", response_model=list[PeriodPublic])
def list_periods(
    access: CommunityReader,
    notarised_only: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=400)] = 100,
) -> list[PeriodPublic]:
    """The community's computed periods, newest first, with their on-chain record when notarised."""
    folder = periods_dir(_chain_community_id(access))
    files = sorted(folder.glob("*/period.json"), reverse=True) if folder.exists() else []
    periods = [_summary(f) for f in files]
    if notarised_only:
        periods = [p for p in periods if p.notarisation]
    return periods[:limit]


@router.get("/communities/{community_id}/periods/{period_id}/bundle", response_model=dict[str, Any])
def period_bundle(
    period_id: PeriodId,
    access: CommunityReader,
    session: SessionDep,
    account: Annotated[str | None, Query(description="Member wallet; a member may omit it (own wallet).")] = None,
) -> dict[str, Any]:
    """A member's proof bundle for one period: readings, salt, proofs, aggregates, model and transaction."""
    from oracle.audit.bundle import make_bundle
    from oracle.proofs.store import get_salts
    from oracle.sources import load_inputs

    chain_community = _chain_community_id(access)
    privileged = access.principal.has_role(AUDITOR) or access.is_admin
    own = access.member.wallet if access.member else None
    if account is not None and not is_address(account):
        raise invalid(f"{account!r} is not an Ethereum address.")
    wanted = to_checksum_address(account) if account else own
    if wanted is None:
        raise invalid("Name the member's wallet with ?account=0x….")
    if not privileged and (own is None or wanted != to_checksum_address(own)):
        raise forbidden("A member may only fetch the bundle of their own wallet.")
    try:
        day = period_day(period_id)
    except ValueError as exc:
        raise invalid(f"{period_id} is not a period id (YYYYMMDD).") from exc
    try:
        inputs = load_inputs(session, chain_community, day)
        salts = get_salts(session, chain_community, period_id)
        return make_bundle(inputs, wanted, salts)
    except PeriodError as exc:
        # The oracle's sentence is for its operator (it names files and commands): logged, not answered.
        log.info("No bundle of %s for period %s of community %s: %s", wanted, period_id, chain_community, exc)
        raise not_found(
            f"There is no proof bundle of {wanted} for period {period_id} in community {access.community.id}: the "
            "period was not computed yet, or that wallet had no readings in it. List the periods with "
            f"GET /api/v1/communities/{access.community.id}/periods."
        ) from exc


@router.post("/verify", response_model=VerifyResult, responses=CHAIN_DOWN)
def verify(body: VerifyRequest, _principal: PrincipalDep, settings: SettingsDep) -> VerifyResult:
    """Run the auditor's take-out checks of a bundle against the chain (any logged-in user may verify)."""
    from oracle.audit.verify import verify_bundle

    w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 15}))
    try:
        checks = verify_bundle(body.bundle, w3)
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid(f"The bundle is incomplete or malformed: {exc}.") from exc
    except OSError as exc:
        raise chain_down(exc) from exc
    return VerifyResult(
        ok=bool(checks) and all(c.ok for c in checks),
        checks=[CheckPublic(name=c.name, ok=c.ok, detail=c.detail) for c in checks],
    )
