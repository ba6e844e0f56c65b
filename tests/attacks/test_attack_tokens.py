"""Attack: malformed access tokens must be a 401 with a clear message, and be audited.

``Authorization: Bearer WzFd.e30.AAAA`` (a header segment decoding to ``[1]``) crashed token
verification with a 500 that never reached the audit log. Every malformed JWS shape is
tried here: bad base64, JSON that is not an object, missing or mistyped header fields,
non-ASCII bytes, deep nesting, and (signed with the platform key, so only the claims are
wrong) claims of the wrong types.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import select

from catalog.models import AuditEntry
from tests.exchange_api.api_helpers import Api
from tests.exchange_api.lake_cases import ZHANG


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


UNSIGNED = {
    "header-list": "WzFd.e30.AAAA",
    "header-string": f"{_b64('a')}.e30.AAAA",
    "header-null": f"{_b64(None)}.e30.AAAA",
    "header-number": f"{_b64(1)}.e30.AAAA",
    "header-true": f"{_b64(True)}.e30.AAAA",
    "header-empty-object": f"{_b64({})}.e30.AAAA",
    "header-alg-list": f"{_b64({'alg': ['EdDSA'], 'kid': {}})}.e30.AAAA",
    "header-not-json": f"{_b64(b'not json')}.e30.AAAA",
    "header-not-utf8": f"{_b64(bytes([0xFF, 0xFE]))}.e30.AAAA",
    "header-deeply-nested": f"{_b64(b'[' * 5000)}.e30.AAAA",
    "bad-base64-length": "a.e30.AAAA",
    "bad-base64-chars": "e30!.e30.AAAA",
    "empty-segments": "..",
    "four-segments": "e30.e30.e30.AAAA",
}


def _signed(api: Api, claims: Any, header: Any = None) -> str:
    key = api.client.app.state.exchange.key  # type: ignore[attr-defined]
    head = _b64(header if header is not None else {"alg": "EdDSA", "typ": "JWT", "kid": key.key_id})
    body = _b64(claims)
    signature = key.sign(f"{head}.{body}".encode("ascii"))
    return f"{head}.{body}.{_b64(signature)}"


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": "govshare", "sub": "x", "role": "department", "name": "dept:x", "key": "k",
        "iat": 1_700_000_000, "exp": 4_000_000_000, "jti": "00",
    }  # fmt: skip
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


SIGNED: dict[str, Any] = {
    "claims-list": [1],
    "claims-null": None,
    "exp-string": _claims(exp="later"),
    "exp-true": _claims(exp=True),
    "exp-float-infinite": _claims(exp=1e999),
    "iat-missing": _claims(iat=...),
    "role-list": _claims(role=["steward"]),
    "role-unknown": _claims(role="god"),
    "sub-number": _claims(sub=12),
    "name-object": _claims(name={"a": 1}),
}


def _tokens(api: Api) -> dict[str, str]:
    return UNSIGNED | {k: _signed(api, v) for k, v in SIGNED.items()}


def _refused_entries(api: Api) -> list[AuditEntry]:
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        return list(ctx.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


@pytest.fixture
def api(small_api: Api, catalog) -> Api:  # type: ignore[no-untyped-def]
    small_api.catalog = catalog  # type: ignore[attr-defined]
    return small_api


@pytest.mark.parametrize("name", [*UNSIGNED, *SIGNED])
def test_malformed_token_is_an_audited_401_on_a_data_call(api: Api, name: str) -> None:
    token = _tokens(api)[name]
    response = api.client.post(
        "/api/v1/verify/identity",
        json={"id_number": ZHANG, "name": "张三丰", "case_ref": "C1", "business_matter": "测试"},
        headers={"Authorization": f"Bearer {token}", "X-Purpose": "test"},
    )
    assert response.status_code == 401, response.text
    # Not token-shaped (four segments) reads as "a token is required"; the rest as invalid.
    code = response.json()["errorCode"]
    assert code == ("TOKEN_REQUIRED" if name == "four-segments" else "INVALID_TOKEN")
    assert "访问令牌" in response.json()["message"]
    [entry] = _refused_entries(api)
    assert (entry.status, entry.outcome, entry.reason) == (401, "denied", code)
    assert entry.endpoint == "POST /api/v1/verify/identity"
    assert entry.department_code is None and entry.subject_hash == ""
    assert ZHANG not in json.dumps(
        {c: str(getattr(entry, c)) for c in ("endpoint", "purpose", "reason", "actor")}
    )


@pytest.mark.parametrize("name", ["header-list", "header-deeply-nested", "exp-float-infinite"])
def test_malformed_token_is_a_401_on_a_catalogue_call(api: Api, name: str) -> None:
    token = _tokens(api)[name]
    response = api.client.get("/api/v1/resources", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["errorCode"] == "INVALID_TOKEN"


def test_non_ascii_token_bytes_are_a_401(api: Api) -> None:
    response = api.client.post(
        "/api/v1/verify/identity",
        json={"id_number": ZHANG, "name": "张三丰", "case_ref": "C1", "business_matter": "测试"},
        headers={"Authorization": b"Bearer \xc3\xa9.e30.AAAA", "X-Purpose": "test"},
    )
    assert response.status_code == 401, response.text
    assert [e.status for e in _refused_entries(api)] == [401]
