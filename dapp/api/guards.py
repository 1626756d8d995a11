"""What every route under /api/v1 does before its body is read: the size cap, authentication, the rate limit and
the nesting cap.

FastAPI reads and parses a request's body before it solves the route's dependencies, so with a bearer-token
dependency alone an anonymous caller can make the API read megabytes or parse a JSON document nested 100 000
deep. `GuardedRoute`, the `route_class` of every router under /api/v1, runs first instead:

1. a `Content-Length` above the route's cap is refused (413) unread; a body sent without one is counted as it
   streams in and refused once it passes the cap;
2. a route that needs a token authenticates the caller (401) — a remembered token on the event loop, a new one in
   a worker thread — and `deps.get_principal` returns that same principal later;
3. the request is counted against a rate limit (429 with `Retry-After`): an authenticated caller's by their
   Keycloak subject, a request without a valid token by its client address;
4. a body nested deeper than `max_json_depth` is refused (400) before `json.loads` sees it: CPython's parser
   recurses once per level, and where the recursion limit was raised (py_ecc raises it to 100 000 when imported)
   a deep document overflows the C stack and kills the worker instead of raising; so is a body escaping an
   unpaired UTF-16 surrogate, which no database or UTF-8 encoder stores.

Caps: `max_body_bytes` by default, `max_batch_body_bytes` on the routes of `BatchRoute` (readings batches),
`max_anonymous_body_bytes` on routes that need no token. The numbers and limits are `Settings` fields, described
in docs/identity.md ("Hardening").
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from itertools import accumulate
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from starlette.types import Message, Receive

from dapp.api.deps import authenticate, get_principal
from dapp.api.errors import BODY_ERROR, LIMIT_ERRORS, bad_request, too_large, too_many_requests
from lec.settings import Settings

# JSON strings may hold any bracket; they are removed (possessive: linear even on hostile input) before counting.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


# At each backslash: an escaped backslash, a surrogate pair, or a lone surrogate (group 1). JSON lets "\ud800"
# through, Python keeps it, and no database or UTF-8 encoder takes it (a 500 where it is stored).
_ESCAPE = re.compile(
    rb"\\(?:\\|u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|(u[dD][89a-fA-F][0-9a-fA-F]{2}))"
)


def lone_surrogate(body: bytes) -> str | None:
    """The first unpaired UTF-16 surrogate escaped in a JSON text (`\\ud800`), if any."""
    return next(("\\" + m.group(1).decode() for m in _ESCAPE.finditer(body) if m.group(1)), None)


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (0 for a scalar), without parsing it."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _per(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"


class Guard:
    """The request limits of one application, from its settings (kept on `app.state.guard`).

    The counters live in `rate_limit_storage_uri` (by default this process's memory: with several uvicorn
    workers each counts alone, so the effective limit is multiplied by their number).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(settings.rate_limit_storage_uri))
        self._limits: dict[str, list[RateLimitItem]] = {
            name: parse_many(value) if (value := getattr(settings, f"rate_limit_{name}")).strip() else []
            for name in ("caller", "anonymous", "registrations", "wallet_challenges")
        }

    def charge(self, limit: str, key: str, what: str) -> None:
        """Count one request of `key` against the named limit; a 429 saying which limit when it is used up
        (`what` names what is counted: "requests for your account")."""
        items = self._limits[limit]
        for item in items:
            if not self._limiter.test(item, limit, key):
                reset = self._limiter.get_window_stats(item, limit, key).reset_time
                retry = max(1, math.ceil(reset - time.time()))
                raise too_many_requests(
                    f"Too many {what}: at most {item.amount} per {_per(item)}. Retry in {retry} s.", retry
                )
        for item in items:
            self._limiter.hit(item, limit, key)

    def cap(self, setting: str, authenticated: bool) -> int:
        """The body cap of a route: its own setting, and at most the anonymous one when it needs no token."""
        cap: int = getattr(self.settings, setting)
        return cap if authenticated else min(cap, self.settings.max_anonymous_body_bytes)


def client_address(request: Request) -> str:
    """The key of a request without a valid token (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


def _body_too_large(cap: int) -> HTTPException:
    return too_large(f"The request body is larger than this route accepts ({cap} bytes); send less per request.")


def _capped(receive: Receive, cap: int) -> Receive:
    """`receive`, refusing (413) once the body's bytes so far pass `cap` (a body sent without Content-Length)."""
    seen = 0

    async def counting() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise _body_too_large(cap)
        return message

    return counting


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


class GuardedRoute(APIRoute):
    """An `APIRoute` that caps, authenticates and counts a request before its body is read (module docstring)."""

    body_cap_setting = "max_body_bytes"

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        guard_errors = dict(LIMIT_ERRORS)
        if {"POST", "PUT", "PATCH"} & set(kwargs.get("methods") or ()):
            guard_errors[400] = BODY_ERROR
        kwargs["responses"] = {**guard_errors, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()
        authenticated = _depends_on(self.dependant, get_principal)
        reads_body = self.body_field is not None
        cap_setting = self.body_cap_setting

        async def guarded(request: Request) -> Response:
            guard: Guard = request.app.state.guard
            cap = guard.cap(cap_setting, authenticated)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise _body_too_large(cap)
            if authenticated and get_principal in request.app.dependency_overrides:
                pass  # a test stands in for the caller (FastAPI's dependency_overrides): it is not a token
            elif authenticated:
                try:
                    request.state.principal = principal = await authenticate(request)
                except HTTPException as exc:
                    if exc.status_code == 401:
                        guard.charge(
                            "anonymous", client_address(request), "requests without a valid token from your address"
                        )
                    raise
                guard.charge("caller", principal.subject, "requests for your account")
            else:
                guard.charge("anonymous", client_address(request), "requests without a token from your address")
            if reads_body:
                request = Request(request.scope, _capped(request.receive, cap))
                body = await request.body()  # read once; FastAPI then parses the kept bytes
                depth = json_depth(body)
                if depth > guard.settings.max_json_depth:
                    raise bad_request(
                        f"The JSON body nests {depth} levels deep; this API accepts at most "
                        f"{guard.settings.max_json_depth}. Send a flatter document."
                    )
                if (surrogate := lone_surrogate(body)) is not None:
                    raise bad_request(
                        f"The JSON body holds the unpaired surrogate {surrogate}, which is no character; send the "
                        "text as valid Unicode."
                    )
            return await handler(request)

        return guarded


class BatchRoute(GuardedRoute):
    """A `GuardedRoute` taking the larger body of a readings batch (`max_batch_body_bytes`)."""

    body_cap_setting = "max_batch_body_bytes"


def throttle(limit: str) -> Callable[[Request], None]:
    """A dependency counting the request against the route's own limit (`rate_limit_<limit>` in Settings): per
    caller when the route needs a token, per client address when it does not."""
    what = limit.replace("_", " ")

    def check(request: Request) -> None:
        principal = getattr(request.state, "principal", None)
        if principal is not None:
            request.app.state.guard.charge(limit, principal.subject, f"{what} for your account")
        else:
            request.app.state.guard.charge(limit, client_address(request), f"{what} from your address")

    return check
