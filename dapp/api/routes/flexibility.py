"""Flexibility and demand response (docs/flexibility.md).

Members declare their flexible loads and see their dispatches; a flexibility buyer (a DSO or an aggregator, realm
role `flexibility-buyer`, usually a confidential client's client-credentials token) reads the community's
k-anonymous offer and sends events for buyers that do not speak OpenADR; the community admin sees the events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from dapp.api.deps import (
    CommunityAccess,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    authorise,
    community_access,
    load_access,
)
from dapp.api.errors import AUTH_ERRORS, ERRORS, forbidden
from dapp.api.guards import GuardedRoute
from dapp.api.roles import COMMUNITY_ADMIN, FLEXIBILITY_BUYER, PLATFORM_ADMIN, TOKEN_HOLDER
from dapp.api.schemas.common import PathId
from dapp.api.schemas.flexibility import (
    DeclarationCreate,
    DeclarationPublic,
    DispatchPublic,
    EventCreate,
    EventPublic,
    ForecastPublic,
    OfferPublic,
    PricePublic,
    PriceSet,
)
from dapp.api.services import flexibility
from lec.calendar import local_date
from lec.db.models import Community

router = APIRouter(
    prefix="/communities/{community_id}/flexibility",
    tags=["flexibility"],
    responses={**AUTH_ERRORS, **ERRORS},
    route_class=GuardedRoute,
)

Member = Annotated[CommunityAccess, Depends(community_access(TOKEN_HOLDER))]


def buyer_or_admin(community_id: PathId, principal: PrincipalDep, session: SessionDep) -> str | None:
    """A buyer (returns its client id: it sees its own events) or the community's admin (returns None: all)."""
    access = load_access(session, principal, community_id)  # 404 for an unknown community
    if principal.has_role(FLEXIBILITY_BUYER):
        return principal.client_id or principal.subject
    authorise(access, (COMMUNITY_ADMIN, PLATFORM_ADMIN))
    return None


def buyer(community_id: PathId, principal: PrincipalDep, session: SessionDep) -> str:
    load_access(session, principal, community_id)
    if not principal.has_role(FLEXIBILITY_BUYER):
        raise forbidden(f"Only a flexibility buyer ({FLEXIBILITY_BUYER}) sends demand-response events.")
    return principal.client_id or principal.subject


BuyerOrAdmin = Annotated[str | None, Depends(buyer_or_admin)]
Buyer = Annotated[str, Depends(buyer)]


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/declarations", response_model=list[DeclarationPublic])
def my_declarations(access: Member, session: SessionDep) -> list[DeclarationPublic]:
    """Your declared flexible loads in this community."""
    return flexibility.list_declarations(session, access)


@router.post("/declarations", response_model=DeclarationPublic, status_code=status.HTTP_201_CREATED)
def declare(body: DeclarationCreate, access: Member, session: SessionDep) -> DeclarationPublic:
    """Declare a flexible load: its kind, power, the days and local hours it is available, the notice it needs."""
    return flexibility.declare(session, access, body)


@router.delete("/declarations/{declaration_id}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw(declaration_id: PathId, access: Member, session: SessionDep) -> None:
    """Delete one of your declarations (deleting your account deletes them all)."""
    flexibility.delete_declaration(session, access, declaration_id)


@router.get("/offer", response_model=OfferPublic)
def aggregated_offer(
    community_id: PathId,
    _caller: BuyerOrAdmin,
    session: SessionDep,
    settings: SettingsDep,
    hours: Annotated[int, Query(ge=1, le=flexibility.MAX_OFFER_HOURS, description="How far ahead.")] = 48,
) -> OfferPublic:
    """The community's flexibility per 15-minute slot from the next quarter hour: kW down and up and the number
    of devices. No personal data; a slot with fewer than k contributing members is withheld."""
    return flexibility.community_offer(session, community_id, settings.flex_k_anonymity, hours, _now())


Admin = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, PLATFORM_ADMIN))]


@router.get("/price", response_model=PricePublic)
def price(community_id: PathId, _caller: BuyerOrAdmin, session: SessionDep) -> PricePublic:
    """The community's asking price for its flexibility, euro cents per kWh delivered (null when none is set)."""
    return flexibility.get_price(session, community_id)


@router.put("/price", response_model=PricePublic)
def set_price(body: PriceSet, access: Admin, session: SessionDep) -> PricePublic:
    """The community admin sets the asking price buyers see with the offer."""
    assert access.community.id is not None
    return flexibility.set_price(session, access.community.id, body, _now())


@router.get("/forecast", response_model=ForecastPublic)
def forecast(
    community_id: PathId,
    _caller: BuyerOrAdmin,
    session: SessionDep,
    day: Annotated[date | None, Query(description="The local day to forecast (default: tomorrow).")] = None,
) -> ForecastPublic:
    """Day-ahead forecast of the community's load and PV per quarter hour, from its metered totals."""
    community = session.get(Community, community_id)
    assert community is not None  # BuyerOrAdmin answered 404 otherwise
    return flexibility.community_forecast(session, community, day or local_date(_now()) + timedelta(days=1))


@router.post("/events", response_model=EventPublic, status_code=status.HTTP_201_CREATED)
def send_event(
    community_id: PathId, body: EventCreate, caller: Buyer, session: SessionDep, settings: SettingsDep
) -> EventPublic:
    """A demand-response event (the REST twin of an OpenADR `LOAD_DISPATCH`): reduce `request_w` from `start` to
    `end`. The reply says whether the community opted in and how much it committed. Re-sending the same
    `event_id` returns the first answer."""
    return flexibility.create_event(session, community_id, caller, body, _now(), settings.flex_min_cover_bps)


@router.get("/events", response_model=list[EventPublic])
def events(community_id: PathId, caller: BuyerOrAdmin, session: SessionDep) -> list[EventPublic]:
    """The community's events, newest first (a buyer sees the events it sent)."""
    return flexibility.list_events(session, community_id, caller)


@router.get("/dispatches", response_model=list[DispatchPublic])
def my_dispatches(access: Member, session: SessionDep) -> list[DispatchPublic]:
    """Your share of each event you were dispatched in."""
    return flexibility.my_dispatches(session, access)


@router.post("/events/{event_id}/opt-out", response_model=DispatchPublic)
def opt_out(event_id: PathId, access: Member, session: SessionDep) -> DispatchPublic:
    """Opt out of an event you were dispatched in, until it starts."""
    return flexibility.opt_out(session, access, event_id, _now())
