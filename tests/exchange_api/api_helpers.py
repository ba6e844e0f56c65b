"""Helpers shared by the exchange API tests (kept out of conftest so tests can import them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from catalog.domain import DataType, ResourceClass, Sensitivity, ShareType, UpdateCycle

# The settable test clock of tests/conftest.py, seen as what the app needs: a callable.
Clock = Callable[[], datetime]


@dataclass
class Api:
    """A running test client and the keys issued for it, by name."""

    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}

    def post(self, who: str, path: str, body: Any = None, **params: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", json=body, params=params or None, headers=self.headers(who)
        )

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params=params or None, headers=self.headers(who))


def resource_body(provider_code: str, seq: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid ResourceIn as JSON, the way a client would send it."""
    body: dict[str, Any] = {
        "code": f"000009001/{seq:06d}",
        "name": f"接口测试信息资源{seq}",
        "classification": ResourceClass.DEPARTMENT.value,
        "provider_code": provider_code,
        "summary": "经由接口编目的信息资源",
        "share_type": ShareType.UNCONDITIONAL.value,
        "update_cycle": UpdateCycle.DAILY.value,
        "items": [
            {
                "name": "身份证号",
                "data_type": DataType.CHAR.value,
                "length": 18,
                "is_key": True,
                "sensitivity": Sensitivity.SENSITIVE_PERSONAL.value,
            },
            {"name": "办件状态", "data_type": "字符型", "length": 10},
        ],
    }
    body.update(overrides)
    return body


def publish(api: Api, owner: str, seq: int = 1) -> str:
    """Catalogue, submit and approve a resource of ``owner``; returns its code."""
    body = resource_body(api.codes[owner], seq)
    assert api.post(owner, "/resources", body).status_code == 201
    code = body["code"]
    assert api.post(owner, f"/resources/{code}/submit").status_code == 200
    approved = api.post("steward", f"/resources/{code}/review", {"approve": True})
    assert approved.status_code == 200, approved.text
    return str(code)


def token(api: Api, who: str) -> str:
    """An access token for ``who``'s API key, as a client would get one."""
    response = api.client.post("/api/v1/token", headers=api.headers(who))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def data_headers(api: Api, who: str, purpose: str | None) -> dict[str, str]:
    from urllib.parse import quote

    headers = {"Authorization": f"Bearer {token(api, who)}"}
    if purpose is not None:
        headers["X-Purpose"] = quote(purpose)
    return headers


def data_get(api: Api, who: str, path: str, purpose: str | None, **params: Any) -> Any:
    return api.client.get(
        f"/api/v1{path}", params=params or None, headers=data_headers(api, who, purpose)
    )


def data_post(api: Api, who: str, path: str, body: Any, purpose: str | None) -> Any:
    return api.client.post(f"/api/v1{path}", json=body, headers=data_headers(api, who, purpose))
