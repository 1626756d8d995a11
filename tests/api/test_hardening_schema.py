"""The OpenAPI schema declares the error bodies the API really sends (issue 17, hardening 7)."""

from __future__ import annotations

from typing import get_args

import jsonschema
import pytest
from api_helpers import bearer
from pydantic import ValidationError

from dapp.api.schemas.identity import ChallengeRequest
from dapp.api.schemas.policy import RewardModelCreate
from oracle.rewards.models import KINDS


def _resolve(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_every_422_is_a_validation_problem_and_fastapis_model_is_gone(client):
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(schema)
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    with_422 = [op for _path, _method, op in operations if "422" in op["responses"]]
    assert len(with_422) > 20
    for op in with_422:
        ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ValidationProblem"
    for path, method, op in operations:
        if path.startswith("/api/v1"):
            assert {"413", "429"} <= op["responses"].keys(), (method, path)


def test_a_real_422_body_validates_against_the_declared_schema(client, keycloak, new_user):
    schema = client.get("/openapi.json").json()
    reply = client.post("/api/v1/verify", headers=bearer(keycloak.mint(new_user("token-holder"))), json={"x": 1})
    assert reply.status_code == 422
    declared = {**_resolve(schema, "#/components/schemas/ValidationProblem"), "components": schema["components"]}
    jsonschema.validate(reply.json(), declared, cls=jsonschema.Draft202012Validator)
    assert reply.json()["errors"]


def test_405_lists_every_method_of_the_path(client):
    reply = client.put("/api/v1/me")
    assert reply.status_code == 405
    assert set(reply.headers["allow"].split(", ")) >= {"GET", "PATCH", "DELETE"}
    assert "answers" in reply.json()["detail"]


@pytest.mark.parametrize(("value", "accepted"), [(3, True), (3.0, True), (3.5, False), ("3", False), (True, False)])
def test_strict_bodies_take_json_schemas_integers(value, accepted):
    """The schema says "integer", which JSON Schema grants 3.0 (a JavaScript client may send it) and nothing else."""
    body = {"community_id": value, "address": "0x" + "ab" * 20}
    if accepted:
        assert ChallengeRequest.model_validate(body).community_id == 3
    else:
        with pytest.raises(ValidationError):
            ChallengeRequest.model_validate(body)


def test_the_reward_model_kinds_are_the_oracles():
    assert get_args(RewardModelCreate.model_fields["kind"].annotation) == KINDS
