"""Attack: credentials and grants that outlive their revocation.

A token kept working for up to 15 minutes after its key was revoked, and no code path could
revoke a grant at all. Now a token dies with its key on the next call, and the provider or a
steward revokes a grant (API or CLI, reason required, recorded) effective on the next call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from catalog import keys, repository
from exchange_api.configuration import ExchangeSettings
from tests.exchange_api.api_helpers import Api, data_post
from tests.exchange_api.conftest import LICENCE_PURPOSE, PERSON_PURPOSE
from tests.exchange_api.lake_cases import ACME, ZHANG
from tests.factories import STEWARD

CASE = {"case_ref": "HZ-2026-0001", "business_matter": "就业困难人员认定"}
IDENTITY = {"id_number": ZHANG, "name": "张三丰"} | CASE


def _identity(api: Api, token: str) -> int:
    from urllib.parse import quote

    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PERSON_PURPOSE)}
    return int(
        api.client.post("/api/v1/verify/identity", json=IDENTITY, headers=headers).status_code
    )


def test_a_token_stops_working_when_its_key_is_revoked(data_api: Api) -> None:
    response = data_api.client.post("/api/v1/token", headers=data_api.headers("rs"))
    token = response.json()["access_token"]
    assert _identity(data_api, token) == 200
    key_id = data_api.keys["rs"].split("_")[1]
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        keys.revoke_key(ctx, key_id=key_id, actor=STEWARD)
    refused = data_api.client.post(
        "/api/v1/verify/identity",
        json=IDENTITY,
        headers={"Authorization": f"Bearer {token}", "X-Purpose": "x"},
    )
    assert refused.status_code == 401 and refused.json()["errorCode"] == "INVALID_TOKEN"
    # Catalogue routes accept the same token: refused there too.
    catalogue = data_api.client.get(
        "/api/v1/resources", headers={"Authorization": f"Bearer {token}"}
    )
    assert catalogue.status_code == 401


def _provider_of(api: Api, grant_id: int) -> str:
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        code = repository.grant(ctx.session, grant_id).resource.provider.code
    return next(name for name, c in api.codes.items() if c == code)


def test_the_provider_revokes_a_grant_with_a_reason_effective_next_call(data_api: Api) -> None:
    grant_id = data_api.grants["person"]  # type: ignore[attr-defined]
    assert (
        data_post(data_api, "rs", "/verify/identity", IDENTITY, PERSON_PURPOSE).status_code == 200
    )
    path = f"/grants/{grant_id}/revoke"
    # The grantee, an outsider and a request without a reason are all refused.
    assert data_api.post("rs", path, {"reason": "不想用了"}).status_code == 403
    assert data_api.post("zj", path, {"reason": "越权"}).status_code == 403
    assert data_api.post("steward", path, {"reason": "  "}).status_code == 422
    assert data_api.post("steward", path, {}).status_code == 422
    provider = _provider_of(data_api, grant_id)
    data_api.keys.setdefault(provider, _key_for(data_api, provider))
    revoked = data_api.post(provider, path, {"reason": "超出约定用途使用"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoke_reason"] == "超出约定用途使用"
    assert revoked.json()["revoked_at"] is not None
    answer = data_post(data_api, "rs", "/verify/identity", IDENTITY, PERSON_PURPOSE)
    assert answer.status_code == 403 and answer.json()["errorCode"] == "GRANT_REVOKED"
    assert data_api.post("steward", path, {"reason": "再次撤销"}).status_code == 409
    history = data_api.get("rs", f"/grants/{grant_id}/history").json()["data"]
    assert [h["action"] for h in history][-1] == "撤销授权"
    assert history[-1]["after"]["reason"] == "超出约定用途使用"
    assert data_api.get("zj", f"/grants/{grant_id}/history").status_code == 403
    held = {g["id"] for g in data_api.get("rs", "/grants").json()["data"]}
    assert set(data_api.grants.values()) <= held  # type: ignore[attr-defined]
    assert grant_id not in {g["id"] for g in data_api.get("zj", "/grants").json()["data"]}


def _key_for(api: Api, name: str) -> str:
    from catalog.domain import Role

    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        _key, plaintext = keys.create_key(
            ctx, department_code=api.codes[name], role=Role.DEPARTMENT, actor=STEWARD
        )
    return plaintext


def test_cli_revokes_a_grant_and_requires_a_reason(
    data_api: Api, settings, exchange_settings: ExchangeSettings
) -> None:  # type: ignore[no-untyped-def]
    grant_id = data_api.grants["licence"]  # type: ignore[attr-defined]
    env = {
        **os.environ,
        "GOVSHARE_HOME": str(settings.home),
        "GOVSHARE_DATABASE_URL": settings.catalog_url,
    }
    body = {"uscc": ACME, "licence_type": "营业执照"} | CASE
    assert data_post(data_api, "rs", "/verify/licence", body, LICENCE_PURPOSE).status_code == 200
    command = [sys.executable, "-m", "govshare", "grants", "revoke", str(grant_id)]
    missing = subprocess.run(command, env=env, capture_output=True, text=True)
    assert missing.returncode != 0
    done = subprocess.run(
        [*command, "--reason", "证照接口停用", "--json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revoke_reason"] == "证照接口停用"
    answer = data_post(data_api, "rs", "/verify/licence", body, LICENCE_PURPOSE)
    assert answer.status_code == 403 and answer.json()["errorCode"] == "GRANT_REVOKED"
