"""`Annotated` dependencies shared by the routes: settings, database session, Keycloak's admin side, the caller,
role and community checks.

Authorisation rule, in one place: a realm role from the token says what kind of caller this is; the database
says which communities the caller belongs to (`user_communities`, active) and which community roles they hold
there (`user_roles`). A community-scoped route asks `community_access(...)` (or one of the usual sets below,
`CommunityReader`, `CommunityAdmin`) and gets a 403 when the caller is authenticated but not entitled, a 404
when the community does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dapp.api.errors import forbidden, not_found, unauthorized
from dapp.api.idp import IdentityProvider
from dapp.api.roles import AUDITOR, COMMUNITY_ADMIN, PLATFORM_ADMIN, TOKEN_HOLDER
from dapp.api.schemas.common import PathId
from dapp.api.security import IdentityProviderUnavailable, InvalidToken, Principal, TokenValidator
from lec.db.models import Community, Role, User, UserCommunity, UserRole
from lec.settings import Settings

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="A Keycloak access token of the lec realm.")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_idp(request: Request) -> IdentityProvider:
    """Keycloak's admin side, made on first use (its client logs in only when a route needs it)."""
    idp: IdentityProvider | None = getattr(request.app.state, "idp", None)
    if idp is None:
        idp = request.app.state.idp = IdentityProvider(request.app.state.settings)
    return idp


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
IdpDep = Annotated[IdentityProvider, Depends(get_idp)]


async def authenticate(request: Request) -> Principal:
    """The caller named by the request's bearer token, or a 401 (a 503 when Keycloak's keys cannot be fetched).

    `GuardedRoute` calls this before the body is read and keeps the result on `request.state.principal`.
    """
    credentials = await _bearer(request)
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="This endpoint needs a bearer token: log in through Keycloak and send `Authorization: Bearer …`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    validator: TokenValidator = request.app.state.validator
    token = credentials.credentials
    try:
        # A remembered token is answered on the event loop (no I/O); verifying a new one may fetch the realm's
        # keys over HTTP, so that runs in a worker thread.
        return validator.cached(token) or await run_in_threadpool(validator.validate, token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc
    except IdentityProviderUnavailable as exc:
        log.error("%s", exc)  # names the settings to check: the operator's to read, not the caller's
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="The identity provider's signing keys cannot be fetched now, so no token can be checked; "
            "retry in a while.",
        ) from exc


async def get_principal(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The authenticated caller: the one `GuardedRoute` found before reading the body, else found now."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal if principal is not None else await authenticate(request)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: str):  # noqa: ANN201  (returns a dependency)
    """A dependency that lets through callers holding any of `roles` (realm roles of the token)."""

    def check(principal: PrincipalDep) -> Principal:
        if not principal.has_role(*roles):
            raise forbidden(f"This action needs one of the roles {', '.join(roles)}; your account has none of them.")
        return principal

    return check


def person(principal: PrincipalDep) -> Principal:
    """People only: machine (client-credentials) tokens cannot act on profiles, wallets or memberships."""
    if principal.service_account:
        raise forbidden("A machine token cannot use this endpoint; it is for people logged in through the dApp.")
    return principal


PersonDep = Annotated[Principal, Depends(person)]


def current_user(principal: PersonDep, session: SessionDep) -> User:
    """The caller's row in `users` (created at registration); 403 if the account was never registered here."""
    user = session.exec(select(User).where(User.external_id == principal.subject)).first()
    if user is None:
        raise forbidden(
            "Your Keycloak account is not registered with the platform: complete the registration "
            "(POST /api/v1/registrations) first."
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


@dataclass(frozen=True)
class CommunityAccess:
    """What the caller may do in one community."""

    community: Community
    principal: Principal
    user: User | None
    member: UserCommunity | None
    community_roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.principal.has_role(PLATFORM_ADMIN) or COMMUNITY_ADMIN in self.community_roles

    def can(self, role: str) -> bool:
        return self.principal.has_role(PLATFORM_ADMIN) or role in self.community_roles


def load_access(session: Session, principal: Principal, community_id: PathId) -> CommunityAccess:
    community = session.get(Community, community_id)
    if community is None:
        raise not_found(f"There is no community {community_id}; list them with GET /api/v1/communities.")
    user = session.exec(select(User).where(User.external_id == principal.subject)).first()
    member: UserCommunity | None = None
    roles: frozenset[str] = frozenset()
    if user is not None:
        member = session.get(UserCommunity, (community_id, user.id))
        if member is not None and not member.active:
            member = None
        names = session.exec(
            select(Role.name)
            .join(UserRole, UserRole.role_id == Role.id)  # type: ignore[arg-type]
            .where(UserRole.user_id == user.id, UserRole.community_id == community_id)
        ).all()
        # A community role counts only while the token also carries the realm role (Keycloak revokes centrally).
        roles = frozenset(n for n in names if principal.has_role(n))
        if member is not None and principal.has_role(TOKEN_HOLDER):
            roles |= {TOKEN_HOLDER}
    return CommunityAccess(community, principal, user, member, roles)


_USERS, _MEMBERSHIPS = User.__table__, UserCommunity.__table__  # type: ignore[attr-defined]
_ACTIVE_MEMBER = (
    sa.select(_MEMBERSHIPS.c.user_id)
    .join(_USERS, _USERS.c.id == _MEMBERSHIPS.c.user_id)
    .where(
        _USERS.c.external_id == sa.bindparam("subject"),
        _MEMBERSHIPS.c.community_id == sa.bindparam("community_id"),
        _MEMBERSHIPS.c.active == sa.true(),
    )
)


# The caller's user id as a scalar subquery (None when they are not an active member): lets a hot read fold the
# membership check into its own statement (dapp/api/services/dashboards.py).
ACTIVE_MEMBER_ID = _ACTIVE_MEMBER.scalar_subquery()


def active_holder_id(session: Session, principal: Principal, community_id: int) -> int | None:
    """The caller's user id when they are an active member of the community holding the token-holder role.

    That is the common case of `authorise(load_access(…), (TOKEN_HOLDER,))` granting access, answered with one
    Core query instead of four ORM loads. `None` decides nothing: ask `load_access`, which knows every other case
    (community roles, and the 403 and 404 with their sentences).
    """
    if not principal.has_role(TOKEN_HOLDER):
        return None
    params = {"subject": principal.subject, "community_id": community_id}
    user_id = session.connection().execute(_ACTIVE_MEMBER, params).scalar_one_or_none()
    return int(user_id) if user_id is not None else None


def community_access(*allowed: str):  # noqa: ANN201  (returns a dependency)
    """A dependency for `/communities/{community_id}/…` routes: the caller needs one of `allowed` there.

    `allowed` names community roles (`community-admin`, `token-holder` …, held in that community) and the
    global roles `auditor` and `platform-admin` (held in the token, valid for every community).
    """

    def check(community_id: PathId, principal: PrincipalDep, session: SessionDep) -> CommunityAccess:
        return authorise(load_access(session, principal, community_id), allowed)

    return check


def authorise(access: CommunityAccess, allowed: tuple[str, ...]) -> CommunityAccess:
    """`access` when it grants one of `allowed` (the rule of `community_access`), else a 403."""
    principal = access.principal
    if principal.has_role(PLATFORM_ADMIN) and PLATFORM_ADMIN in allowed:
        return access
    if AUDITOR in allowed and principal.has_role(AUDITOR):
        return access
    if access.community_roles.intersection(allowed):
        return access
    raise forbidden(
        f"You have no access to community {access.community.id} for this action "
        f"(it needs {' or '.join(allowed)} in that community)."
    )


# The usual sets of a community's routes.
CommunityReader = Annotated[
    CommunityAccess, Depends(community_access(TOKEN_HOLDER, COMMUNITY_ADMIN, AUDITOR, PLATFORM_ADMIN))
]
"""Reads the community's data: its members (their own), its admin, auditors and platform admins."""
CommunityAdmin = Annotated[CommunityAccess, Depends(community_access(COMMUNITY_ADMIN, PLATFORM_ADMIN))]
"""Manages the community: its admin and platform admins."""
