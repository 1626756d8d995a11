"""The caller's own account (report §4.1.1): registration, profile, wallet binding (SIWE), leaving, logout."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from dapp.api.deps import CurrentUser, IdpDep, PersonDep, PrincipalDep, SessionDep, SettingsDep
from dapp.api.errors import AUTH_ERRORS, ERRORS, idp_failure
from dapp.api.guards import GuardedRoute, throttle
from dapp.api.idp import IdentityProviderError
from dapp.api.schemas.common import PathId
from dapp.api.schemas.identity import (
    Challenge,
    ChallengeRequest,
    LogoutRequest,
    MePublic,
    ProfileUpdate,
    RegistrationAccepted,
    RegistrationCreate,
    RegistrationPublic,
    UserRegister,
    WalletBinding,
)
from dapp.api.services import accounts, registrations, wallets

router = APIRouter(tags=["identity"], responses=AUTH_ERRORS, route_class=GuardedRoute)


# ---- profile ------------------------------------------------------------------------------------------------


@router.get("/me", response_model=MePublic)
def read_me(principal: PrincipalDep, session: SessionDep) -> MePublic:
    """Who the token says you are, your roles, and your registry data, memberships and requests if registered."""
    return accounts.read_me(session, principal)


@router.patch("/me", response_model=MePublic, responses=ERRORS)
def update_me(
    changes: ProfileUpdate, principal: PersonDep, user: CurrentUser, session: SessionDep, idp: IdpDep
) -> MePublic:
    """Edit your registry data; name and e-mail are also changed in Keycloak (a new e-mail is verified again)."""
    accounts.update_profile(session, idp, principal, user, changes)
    return accounts.read_me(session, principal)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_me(
    principal: PersonDep, user: CurrentUser, session: SessionDep, settings: SettingsDep, idp: IdpDep
) -> Response:
    """Right to be forgotten: wallets removed on chain, Keycloak account deleted, personal rows and salts erased.

    The chain is done first: if it fails nothing is deleted and the request can be repeated. An audit entry
    records that a deletion happened, with the transactions, but nothing about the person.
    """
    accounts.erase_account(session, settings, idp, principal, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/logout", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def logout(body: LogoutRequest, _principal: PersonDep, idp: IdpDep) -> Response:
    """End your Keycloak session (single sign-out for every webapp of the platform)."""
    try:
        idp.logout(body.refresh_token, body.client_id)
    except IdentityProviderError as exc:
        raise idp_failure(exc) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- registration --------------------------------------------------------------------------------------------


@router.post(
    "/registrations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RegistrationAccepted,
    responses=ERRORS,
    openapi_extra={"security": []},
    dependencies=[Depends(throttle("registrations"))],
)
def register(form: UserRegister, session: SessionDep, idp: IdpDep) -> RegistrationAccepted:
    """Create an account in Keycloak (a verification e-mail is sent) and ask to join a community.

    The answer is the same whether or not the address already has an account (its owner is told by e-mail), so
    it cannot be used to find out who is registered. Next steps: verify the e-mail, log in, bind a wallet
    (`/me/wallet-challenges`, `/me/wallets`), then wait for the community admin's approval.
    """
    registrations.register(session, idp, form)
    return RegistrationAccepted()


@router.post(
    "/me/registrations", status_code=status.HTTP_201_CREATED, response_model=RegistrationPublic, responses=ERRORS
)
def join(body: RegistrationCreate, principal: PersonDep, session: SessionDep) -> RegistrationPublic:
    """Ask to join a community (a different wallet is bound for each community). A person who created the account
    on Keycloak's own registration page is registered with the platform here, with the names and the verified
    e-mail their token carries."""
    user = registrations.user_of(session, principal)
    return RegistrationPublic.model_validate(registrations.join(session, user, body))


# ---- wallets ---------------------------------------------------------------------------------------------------


@router.post(
    "/me/wallet-challenges",
    status_code=201,
    response_model=Challenge,
    responses=ERRORS,
    dependencies=[Depends(throttle("wallet_challenges"))],
)
def wallet_challenge(
    body: ChallengeRequest, principal: PersonDep, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Challenge:
    """A Sign-In-With-Ethereum message (EIP-4361) for `address` to sign with personal_sign; valid once, briefly."""
    return wallets.issue_challenge(session, settings, principal, user, body)


@router.post("/me/wallets", response_model=RegistrationPublic, responses=ERRORS)
def bind_wallet(
    body: WalletBinding, principal: PersonDep, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> RegistrationPublic:
    """Bind the wallet that signed a challenge to your registration; each nonce works once."""
    return RegistrationPublic.model_validate(wallets.bind_wallet(session, settings, principal, user, body))


@router.delete("/me/communities/{community_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def leave_community(
    community_id: PathId, user: CurrentUser, session: SessionDep, settings: SettingsDep, idp: IdpDep
) -> Response:
    """Remove your blockchain account in one community: the wallet is deactivated on chain (balance to the
    treasury), the membership ends; your other communities and your account stay."""
    accounts.leave_community(session, settings, user, community_id, idp)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
