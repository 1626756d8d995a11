"""The platform's HTTP API (FastAPI) behind Keycloak: identity flows, community data, proofs, ingestion.

Where things go (the full-stack-fastapi-template's layout):

- `main.py` builds the app; `routes/<resource>.py` each hold one `APIRouter`, and a route only parses the
  request, calls one function and returns a schema. No route module imports another.
- `deps.py`: the `Annotated` dependencies (`SessionDep`, `SettingsDep`, `IdpDep`, `PrincipalDep`, `CurrentUser`,
  `require_role(...)`, `community_access(...)` and its usual sets `CommunityReader`, `CommunityAdmin`);
  `roles.py` the realm roles they check.
- `errors.py`: the error body (`Problem`), the error responses routes declare (`AUTH_ERRORS`, `ERRORS`,
  `CHAIN_DOWN`) and the builders every refusal is raised with.
- `guards.py`: what every route under /api/v1 does before its body is read (`GuardedRoute`, each router's
  `route_class`): the body cap, authentication, the rate limit, the JSON nesting cap.
- `services/<use case>.py`: what a route does beyond one database call (Keycloak, the chain, several tables).
- Named modules for the API's adapters: `chain.py` (web3 with the community admin's key), `idp.py`
  (Keycloak's admin API), `security.py` (token validation), `siwe_binding.py` (EIP-4361), `aggregates.py`
  (the dashboards' read model), `dev_identity.py` + `dev_realm.py` (the demo's local Keycloak stand-in).

Schemas, one rule: tables live in :mod:`lec.db.models` (the floor: the oracle, the scripts and the API write
the same rows), each with its `XBase` beside it — the fields a client may send or see, with their
constraints — and, when code below the API writes rows from it, its `XCreate` (`ListingCreate`, used by
`lec.market`). Everything the API alone accepts or answers lives in `schemas/<routes module>.py`: its
`XCreate`/`XUpdate` bodies and `XPublic` views, derived from the table's `XBase` where there is one
(`RegistrationCreate`, `RegistrationPublic`, `MemberDailyKpiPublic`), and the shapes that are no table's
(pages, challenges, check results, the sign-up form spanning two tables).

Two community ids, two names: `community_id` is the platform's row (`communities.id`, the `{community_id}` of
every path); `chain_community_id` is the Registry's id on chain, which keys listings, deals, periods and salts.
"""
