"""Notarised periods, proof bundles (a member gets only their own; an auditor any) and bundle verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from web3 import Web3

from dapp.api.deps import (
    AUDITOR,
    COMMUNITY_ADMIN,
    PLATFORM_ADMIN,
    TOKEN_HOLDER,
    CommunityAccess,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    community_access,
    forbidden,
    not_found,
)
from dapp.api.routes.identity import ERRORS
from dapp.api.schemas import AUTH_ERRORS, PathId, StrictModel
from lec.calendar import period_day
from oracle.pipeline import PeriodError, periods_dir

router = APIRouter(tags=["periods"], responses={**AUTH_ERRORS, **ERRORS})

Viewer = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))]


class PeriodPublic(BaseModel):
    period_id: int
    date: str
    model: dict[str, Any]
    data_root: str | None
    rewards_root: str | None
    aggregates_hash: str | None
    total_rewards: str | None
    leaf_count: int | None
    notarisation: dict[str, Any] | None


class VerifyRequest(StrictModel):
    bundle: dict[str, Any] = Field(description="A proof bundle as returned by the bundle endpoint.")


class CheckPublic(BaseModel):
    name: str
    ok: bool
    detail: str


class VerifyResult(BaseModel):
    ok: bool
    checks: list[CheckPublic]


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


def _chain_id(access: CommunityAccess) -> int:
    if access.community.chain_community_id is None:
        raise HTTPException(409, detail=f"Community {access.community.id} is not deployed on chain: no periods yet.")
    return access.community.chain_community_id


@router.get("/communities/{community_id}/periods", response_model=list[PeriodPublic])
def list_periods(
    access: Viewer, notarised_only: Annotated[bool, Query()] = False, limit: Annotated[int, Query(ge=1, le=400)] = 100
) -> list[PeriodPublic]:
    """The community's computed periods, newest first, with their on-chain record when notarised."""
    folder = periods_dir(_chain_id(access))
    files = sorted(folder.glob("*/period.json"), reverse=True) if folder.exists() else []
    periods = [_summary(f) for f in files]
    if notarised_only:
        periods = [p for p in periods if p.notarisation]
    return periods[:limit]


@router.get("/communities/{community_id}/periods/{period_id}/bundle", response_model=dict[str, Any])
def period_bundle(
    period_id: PathId,
    access: Viewer,
    session: SessionDep,
    account: Annotated[str | None, Query(description="Member wallet; a member may omit it (own wallet).")] = None,
) -> dict[str, Any]:
    """A member's proof bundle for one period: readings, salt, proofs, aggregates, model and transaction."""
    from oracle.audit.bundle import make_bundle
    from oracle.proofs.store import get_salts
    from oracle.sources import load_inputs

    chain_id = _chain_id(access)
    privileged = access.principal.has_role(AUDITOR) or access.is_admin
    own = access.member.wallet if access.member else None
    if account is not None and not is_address(account):
        raise HTTPException(422, detail=f"{account!r} is not an Ethereum address.")
    wanted = to_checksum_address(account) if account else own
    if wanted is None:
        raise HTTPException(422, detail="Name the member's wallet with ?account=0x….")
    if not privileged and (own is None or wanted != to_checksum_address(own)):
        raise forbidden("A member may only fetch the bundle of their own wallet.")
    try:
        day = period_day(period_id)
    except ValueError as exc:
        raise HTTPException(422, detail=f"{period_id} is not a period id (YYYYMMDD).") from exc
    try:
        inputs = load_inputs(session, chain_id, day)
        salts = get_salts(session, chain_id, period_id)
        return make_bundle(inputs, wanted, salts)
    except PeriodError as exc:
        raise not_found(str(exc)) from exc


@router.post("/verify", response_model=VerifyResult)
def verify(body: VerifyRequest, _principal: PrincipalDep, settings: SettingsDep) -> VerifyResult:
    """Run the auditor's take-out checks of a bundle against the chain (any logged-in user may verify)."""
    from oracle.audit.verify import verify_bundle

    w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 15}))
    try:
        checks = verify_bundle(body.bundle, w3)
    except (KeyError, TypeError, ValueError) as exc:
        raise HTTPException(422, detail=f"The bundle is incomplete or malformed: {exc}.") from exc
    except OSError as exc:
        raise HTTPException(502, detail=f"The chain node at {settings.rpc_url} does not answer: {exc}.") from exc
    return VerifyResult(
        ok=bool(checks) and all(c.ok for c in checks),
        checks=[CheckPublic(name=c.name, ok=c.ok, detail=c.detail) for c in checks],
    )
