"""Validation of Keycloak access tokens with python-keycloak against the realm's published keys.

The realm's JWK set is fetched once through `KeycloakOpenID.certs()` and cached. A token signed with a key
id we do not know triggers one refetch (Keycloak rotates keys and publishes the new one first), but at most
once per `jwks_refetch_interval_seconds`, so a stream of forged key ids cannot make the API hammer Keycloak.
Only RS256 is accepted: `alg: none` and HMAC algorithms (the classic confusion with an RSA public key used
as an HMAC secret) are refused before any key is looked at.

A token that passed every check is remembered, keyed by the SHA-256 of the whole token (so an altered token
is a different key and is verified from scratch), until its `exp` and at most `cache_seconds`, in a bounded LRU.
Whenever the keys are fetched again, tokens signed with a key the realm no longer publishes are forgotten, so a
revoked key stops working from the same moment as without the cache.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jwcrypto import jwk, jws, jwt
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError

ALLOWED_ALGORITHMS = ("RS256",)


class InvalidToken(Exception):
    """The bearer token cannot be trusted; the message says why (it becomes the 401's body)."""


class IdentityProviderUnavailable(Exception):
    """Keycloak could not be reached to fetch its keys (a 503, not a 401: the token may be fine)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person (dApp token) or a machine (client-credentials token of a gateway)."""

    subject: str
    username: str
    roles: frozenset[str]
    client_id: str
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email_verified: bool = False
    service_account: bool = False
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


# Claims read into the `Principal`, with the JSON type Keycloak gives them. A claim of another type is not read
# "as best we can" (a string of roles would become a set of letters): the token is refused.
_STRING_CLAIMS = ("sub", "azp", "preferred_username", "email", "given_name", "family_name", "client_id", "typ")
_TIME_CLAIMS = ("exp", "nbf", "iat")


def _check_types(claims: dict[str, Any]) -> None:
    wrong = [name for name in _STRING_CLAIMS if name in claims and not isinstance(claims[name], str)]
    wrong += [
        name
        for name in _TIME_CLAIMS
        if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], int | float))
    ]
    if "email_verified" in claims and not isinstance(claims["email_verified"], bool):
        wrong.append("email_verified")
    realm_access = claims.get("realm_access", {})
    if not isinstance(realm_access, dict):
        wrong.append("realm_access")
    elif not isinstance(roles := realm_access.get("roles", []), list) or not all(isinstance(r, str) for r in roles):
        wrong.append("realm_access.roles")
    if wrong:
        raise InvalidToken(
            f"The token's claims {', '.join(wrong)} have the wrong type (Keycloak writes them as it documents); "
            "it was not issued by Keycloak. Log in again."
        )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The caller named by claims that passed `_check_types` (so every value below has Keycloak's type)."""
    roles = claims.get("realm_access", {}).get("roles", [])
    username = claims.get("preferred_username", "")
    return Principal(
        subject=claims["sub"],
        username=username,
        roles=frozenset(roles),
        client_id=claims.get("azp", ""),
        email=claims.get("email"),
        given_name=claims.get("given_name"),
        family_name=claims.get("family_name"),
        email_verified=claims.get("email_verified", False),
        # Keycloak marks service-account tokens with `client_id` and the `service-account-<client>` username.
        service_account="client_id" in claims or username.startswith("service-account-"),
        claims=claims,
    )


@dataclass(frozen=True)
class _Remembered:
    principal: Principal
    kid: str
    expires_at: float  # the token's `exp`, epoch seconds
    forget_at: float  # on the validator's monotonic clock


def _canonical(part: str) -> bool:
    """Whether `part` is the one base64url spelling (unpadded) of the bytes it decodes to."""
    try:
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except ValueError:
        return False
    return base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() == part


def _segment(part: str) -> dict[str, Any]:
    padded = part + "=" * (-len(part) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except RecursionError as exc:  # nested arrays: json recurses once per level
        raise ValueError("nested too deeply") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


class TokenValidator:
    """Validates access tokens for one realm and audience; safe to share between threads."""

    def __init__(
        self,
        openid: KeycloakOpenID,
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
        refetch_interval_seconds: float = 30.0,
        max_age_seconds: float = 3600.0,
        cache_seconds: float = 60.0,
        cache_size: int = 10_000,
        max_token_bytes: int = 16_384,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._openid = openid
        self.issuer = issuer
        self.audience = audience
        self._leeway = leeway_seconds
        self._refetch_interval = refetch_interval_seconds
        self._max_age = max_age_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._max_token_bytes = max_token_bytes
        # Its own lock: a key fetch (an HTTP call, under `_lock`) must not stall lookups of remembered tokens.
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[bytes, _Remembered] = OrderedDict()
        self._lock = threading.Lock()
        self._keys: jwk.JWKSet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self.fetch_count = 0

    def _fetch(self) -> None:
        try:
            certs = self._openid.certs()
        except (KeycloakError, OSError) as exc:
            raise IdentityProviderUnavailable(
                f"Could not fetch the signing keys of {self.issuer}: {exc}. Check that Keycloak is running and "
                "LEC_API_KEYCLOAK_URL / LEC_API_KEYCLOAK_REALM point at it."
            ) from exc
        keyset = jwk.JWKSet()
        kids = set()
        for cert in certs.get("keys", []):
            if cert.get("use", "sig") != "sig" or cert.get("kty") != "RSA":
                continue  # Keycloak also publishes encryption keys; they never sign tokens.
            keyset.add(jwk.JWK(**cert))
            kids.add(cert["kid"])
        self._keys, self._kids, self._fetched_at = keyset, frozenset(kids), self._clock()
        self.fetch_count += 1
        with self._cache_lock:
            for digest in [d for d, r in self._cache.items() if r.kid not in kids]:
                del self._cache[digest]

    def _keyset_for(self, kid: str) -> jwk.JWKSet:
        with self._lock:
            now = self._clock()
            stale = now - self._fetched_at > self._max_age
            unknown = kid not in self._kids and now - self._fetched_at >= self._refetch_interval
            if self._keys is None or stale or unknown:
                self._fetch()
            if kid not in self._kids:
                raise InvalidToken(
                    "The token was signed with a key this realm does not publish; log in again to get a new token."
                )
            assert self._keys is not None
            return self._keys

    def refresh_if_stale(self) -> None:
        """Fetch the keys now if none are cached or they are older than the maximum age (readiness probe)."""
        with self._lock:
            if self._keys is None or self._clock() - self._fetched_at > self._max_age:
                self._fetch()

    def cached(self, token: str) -> Principal | None:
        """The caller of a token that was validated recently and has not expired since; `None` otherwise.

        No I/O: the API calls this on the event loop and only hands cache misses to a worker thread.
        """
        if self._cache_size == 0:
            return None
        digest = hashlib.sha256(token.encode()).digest()
        with self._cache_lock:
            entry = self._cache.get(digest)
            if entry is None:
                return None
            if self._wall_clock() >= entry.expires_at or self._clock() >= entry.forget_at:
                del self._cache[digest]
                return None
            self._cache.move_to_end(digest)
            return entry.principal

    def _remember(self, token: str, principal: Principal, kid: str) -> None:
        exp = principal.claims.get("exp")
        if self._cache_size == 0 or self._cache_seconds <= 0 or not isinstance(exp, int | float):
            return
        if exp <= self._wall_clock():
            return  # accepted within the leeway only: verify it again next time
        entry = _Remembered(principal, kid, float(exp), self._clock() + self._cache_seconds)
        with self._cache_lock:
            if kid not in self._kids:
                return  # the key was dropped by a fetch that ran while this token was being verified
            self._cache[hashlib.sha256(token.encode()).digest()] = entry
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def validate(self, token: str) -> Principal:
        """The caller's identity, or `InvalidToken` with a sentence saying what is wrong with the token."""
        remembered = self.cached(token)
        if remembered is not None:
            return remembered
        principal, kid = self._verify(token)
        self._remember(token, principal, kid)
        return principal

    def _verify(self, token: str) -> tuple[Principal, str]:
        if len(token) > self._max_token_bytes:
            raise InvalidToken(
                f"The bearer token is too long ({len(token)} characters, at most {self._max_token_bytes}); "
                "Keycloak's access tokens are far shorter. Log in again."
            )
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("The bearer token is not a signed JWT (expected three dot-separated parts).")
        if not all(_canonical(part) for part in parts):
            # base64url leaves spare bits in a segment's last character: a changed spare bit decodes to the same
            # bytes, so one token would have several spellings. Keycloak writes one; the others are refused.
            raise InvalidToken(
                "The bearer token is not in canonical base64url; it was altered after Keycloak signed it."
            )
        try:
            header = _segment(parts[0])
        except ValueError as exc:
            raise InvalidToken("The bearer token's header is not valid base64url JSON.") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise InvalidToken(f"Tokens signed with {alg!r} are not accepted; Keycloak signs with RS256.")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("The token's header names no key id (kid), so its signature cannot be checked.")
        keys = self._keyset_for(kid)
        try:
            claims = self._openid.decode_token(
                token,
                key=keys,
                algs=list(ALLOWED_ALGORITHMS),
                leeway=self._leeway,
                check_claims={"exp": None, "iss": self.issuer},
            )
        except jwt.JWTExpired as exc:
            raise InvalidToken("The token has expired; refresh it or log in again.") from exc
        except jwt.JWTInvalidClaimValue as exc:
            raise InvalidToken(f"The token was not issued by this API's realm ({self.issuer}): {exc}.") from exc
        except jwt.JWTMissingClaim as exc:
            raise InvalidToken(f"The token lacks a required claim: {exc}.") from exc
        except (jwt.JWTInvalidClaimFormat, TypeError) as exc:  # jwcrypto checks types, or trips on them
            raise InvalidToken(
                f"The token's claims exp, nbf, iat, iss, sub, aud or typ have the wrong type ({exc}); it was not "
                "issued by Keycloak. Log in again."
            ) from exc
        except (jws.InvalidJWSSignature, jws.InvalidJWSObject, jwt.JWException, ValueError, RecursionError) as exc:
            raise InvalidToken(
                "The token's signature does not verify; it was altered or not issued by Keycloak."
            ) from exc
        if not isinstance(claims, dict):
            raise InvalidToken("The token's payload is not a JSON object; it was not issued by Keycloak.")
        _check_types(claims)
        if claims.get("typ", "Bearer") != "Bearer":
            raise InvalidToken(f"A {claims.get('typ')} token cannot be used as an access token.")
        audience = claims.get("aud", [])
        audiences = [audience] if isinstance(audience, str) else list(audience)
        # Keycloak names the API in `aud` through the audience mapper; a token the API obtained for itself has
        # the API as `azp`. Anything else was meant for another service.
        if self.audience not in audiences and claims.get("azp") != self.audience:
            raise InvalidToken(
                f"The token is not meant for this API: its audience {audiences} does not include {self.audience!r}. "
                "Add the lec-api-audience client scope to the client that obtained it."
            )
        if "sub" not in claims:
            raise InvalidToken("The token names no subject (sub).")
        self._check_times(claims)
        return principal_from_claims(claims), kid

    def _check_times(self, claims: dict[str, Any]) -> None:
        """`exp`, `nbf` and `iat` against the validator's clock, each with the leeway.

        jwcrypto checked `exp` against the system clock and, given `check_claims`, skips `nbf`; checking all three
        here keeps the cache and the verification on one notion of time (and lets tests move it). Keycloak always
        writes `exp` and `iat`; `nbf` only when an admin pushed a not-before policy.
        """
        now = self._wall_clock()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if exp is None or exp + self._leeway < now:
            raise InvalidToken("The token has expired; refresh it or log in again.")
        if nbf is not None and nbf - self._leeway > now:
            raise InvalidToken(
                f"The token is not valid before {_utc(nbf)}; check the clocks of Keycloak and of this server."
            )
        if iat is not None and iat - self._leeway > now:
            raise InvalidToken(
                f"The token says it was issued in the future ({_utc(iat)}); check the clocks of Keycloak and of "
                "this server."
            )


def _utc(epoch: float) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"Unix time {epoch}"
