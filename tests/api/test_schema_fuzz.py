"""schemathesis over the OpenAPI schema with all its checks: no 500 anywhere, every status, body and header the
API answers is the one the schema documents, and schema-valid requests are accepted (issue 17, hardening 7)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from dapp.api.main import create_app
from tests.support.keycloak import KeycloakServer

# The schema is loaded lazily from an app built by the fixture below (the stand-in's URL is only known then).
schema = schemathesis.pytest.from_fixture("api_schema")

# Requests a schema cannot call valid or invalid: whether a refresh token is still alive (Keycloak answers 400),
# and the reward-model rules across fields (each kind's parameter set, weights summing to 10 000), which the
# oracle's `validate_model` states once for the CLI, the dApp, the scripts and this API; and a community's manifest,
# whose rules across fields (a device's member listed, one owner per POD, faults named by their path) are
# `lec.community.manifest`'s, stated once for the CLI, the dApp and this API (its body is documented as an object).
BEYOND_A_SCHEMA = {
    ("POST", "/api/v1/me/logout"),
    ("POST", "/api/v1/reward-models"),
    ("POST", "/api/v1/onboarding/manifest"),
}


@schemathesis.check
def no_internal_error(ctx, response, case) -> None:  # noqa: ANN001
    """No 500. A 502/503 is allowed: it is documented and says which dependency (chain, Keycloak) is down."""
    if response.status_code == 500 or (response.status_code >= 500 and "detail" not in response.json()):
        raise AssertionError(f"{case.method} {case.path} answered {response.status_code}: {response.text[:300]}")


@pytest.fixture(scope="module")
def fuzz_app(keycloak: KeycloakServer, tmp_path_factory):
    from api_helpers import make_settings

    from lec.db.session import get_engine, init_db

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'api.db'}"
    engine = init_db(get_engine(url))
    keycloak.add_user(
        "fuzz-admin", roles=["platform-admin", "community-admin", "oracle-admin", "auditor", "token-holder"]
    )
    app = create_app(make_settings(keycloak, url, rpc_url="http://127.0.0.1:9"), engine)
    app.state.fuzz_token = keycloak.access_token("fuzz-admin")
    return app


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_the_schema_says_what_the_api_does(case, fuzz_app):
    if case.method == "DELETE" and case.path == "/api/v1/me":
        return  # deletes the fuzzing account itself; covered by the identity flow test
    excluded = [schemathesis.checks.not_a_server_error]
    if (case.method, case.path) in BEYOND_A_SCHEMA:
        excluded.append(positive_data_acceptance)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"},
        additional_checks=[no_internal_error],
        excluded_checks=excluded,
    )
