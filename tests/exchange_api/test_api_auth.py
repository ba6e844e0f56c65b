"""Authentication by department API key: who may call, and what a refusal reveals."""

from __future__ import annotations

import pytest

from catalog import keys
from catalog.store import Catalog
from tests import factories
from tests.exchange_api.api_helpers import Api
from tests.factories import STEWARD


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"X-API-Key": ""}],
    ids=["no-header", "basic-scheme", "empty-key"],
)
def test_request_without_credentials_is_401_with_www_authenticate(
    small_api: Api, headers: dict[str, str]
) -> None:
    response = small_api.client.get("/api/v1/resources", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["errorCode"] == "NOT_AUTHENTICATED"
    assert "X-API-Key" in body["message"]


def test_bad_unknown_and_revoked_keys_get_one_generic_401(small_api: Api, catalog: Catalog) -> None:
    real = small_api.keys["first"]
    key_id = real.split("_")[1]
    with catalog.unit() as ctx:
        keys.revoke_key(ctx, key_id=key_id, actor=STEWARD)
    candidates = {
        "malformed": "hello",
        "unknown id": "gs_zzzzzzzzzzzz_" + real.split("_", 2)[2],
        "wrong secret": f"gs_{small_api.keys['second'].split('_')[1]}_" + "A" * 43,
        "revoked": real,
    }
    messages = set()
    for name, presented in candidates.items():
        response = small_api.client.get("/api/v1/me", headers={"X-API-Key": presented})
        assert response.status_code == 401, name
        assert "www-authenticate" in response.headers
        messages.add(response.json()["message"])
    assert messages == {keys.INVALID_KEY_MESSAGE}  # nothing tells which case it was


def test_key_works_in_either_header_and_me_names_the_caller(small_api: Api) -> None:
    by_header = small_api.client.get("/api/v1/me", headers=small_api.headers("first"))
    bearer = {"Authorization": f"Bearer {small_api.keys['first']}"}
    by_bearer = small_api.client.get("/api/v1/me", headers=bearer)
    assert by_header.status_code == by_bearer.status_code == 200
    assert by_header.json() == by_bearer.json()
    assert by_header.json()["role"] == "department"
    assert by_header.json()["department_code"] == small_api.codes["first"]

    steward = small_api.client.get("/api/v1/me", headers=small_api.headers("steward")).json()
    assert steward["role"] == "steward"
    assert steward["department_code"] == small_api.codes["authority"]
    assert steward["name"] == f"steward:{small_api.keys['steward'].split('_')[1]}"


def test_department_cannot_create_a_resource_for_another_department(
    small_api: Api, catalog: Catalog
) -> None:
    with catalog.unit() as ctx:
        other = factories.department(ctx, 9)
    spec = factories.resource_spec(other).model_dump(mode="json")
    response = small_api.client.post(
        "/api/v1/resources", json=spec, headers=small_api.headers("first")
    )
    assert response.status_code == 403
    assert response.json()["errorCode"] == "NOT_AUTHORIZED"
    assert "本部门" in response.json()["message"]
    # Nothing was written by the refused request.
    missing = small_api.client.get(
        f"/api/v1/resources/{spec['code']}", headers=small_api.headers("first")
    )
    assert missing.status_code == 404
