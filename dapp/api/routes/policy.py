"""Views of the chain: a community token's policy and the registered reward models; model registration."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from dapp.api import chain
from dapp.api.deps import CommunityAccess, PrincipalDep, SettingsDep, community_access, require_role
from dapp.api.errors import AUTH_ERRORS, ERRORS, chain_failure
from dapp.api.guards import GuardedRoute
from dapp.api.roles import AUDITOR, COMMUNITY_ADMIN, ORACLE_ADMIN, PLATFORM_ADMIN, TOKEN_ADMIN, TOKEN_HOLDER
from dapp.api.schemas.policy import RewardModelCreate, RewardModelPublic, RewardModelRegistered
from dapp.api.security import Principal
from dapp.api.services import communities
from lec.chain.client import ORACLE_KEY_ENV, ChainClient, ChainError
from oracle.rewards.models import RewardModelError, validate_model

log = logging.getLogger(__name__)

router = APIRouter(tags=["policy"], responses={**AUTH_ERRORS, **ERRORS}, route_class=GuardedRoute)

Viewer = Annotated[
    CommunityAccess,
    Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, TOKEN_ADMIN, AUDITOR, PLATFORM_ADMIN)),
]


@router.get("/communities/{community_id}/token-policy", response_model=dict[str, Any])
def token_policy(access: Viewer, settings: SettingsDep) -> dict[str, Any]:
    """Fees, per-category incentives, welcome bonuses, exchange rate and treasury, read from the chain."""
    chain_community_id = communities.chain_community_id(access.community, "it has no token")
    try:
        return chain.token_policy(settings, chain_community_id)
    except ChainError as exc:
        raise chain_failure(exc) from exc


@router.get("/reward-models", response_model=list[RewardModelPublic])
def list_models(_principal: PrincipalDep, settings: SettingsDep) -> list[RewardModelPublic]:
    """Every registered reward model version with its parameters in clear (as on chain)."""
    try:
        return [RewardModelPublic(**m) for m in chain.reward_models(settings)]
    except ChainError as exc:
        raise chain_failure(exc) from exc


@router.post("/reward-models", status_code=201, response_model=RewardModelRegistered)
def register_model(
    body: RewardModelCreate,
    _principal: Annotated[Principal, Depends(require_role(ORACLE_ADMIN))],
    settings: SettingsDep,
) -> RewardModelRegistered:
    """Register a model version on chain with the oracle's key (oracle admin); same parameters → same id."""
    try:
        model = validate_model(body.name, body.kind, dict(body.params))
    except RewardModelError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    if settings.oracle_private_key is None:
        log.error("POST /reward-models: the API has no oracle key; set %s.", ORACLE_KEY_ENV)
        raise HTTPException(503, detail="This API has no oracle key, so it cannot register models; tell its operator.")
    try:
        client = ChainClient.connect(settings.rpc_url)
        model_id, result = client.register_model(model.name, model.kind, model.canonical_params)
    except ChainError as exc:
        raise chain_failure(exc) from exc
    return RewardModelRegistered(id=model_id, tx_hash=result.tx_hash if result else None)
