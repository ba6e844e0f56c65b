"""Data calls over HTTP: tokens, grants (deny by default), masking, 422 and 429.

Runs on SQLite only (the audit chain tests cover PostgreSQL); every call goes through the
full app against real Delta tables on disk.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from catalog.models import Grant
from tests.exchange_api.api_helpers import Api, data_get, data_headers, data_post, token
from tests.exchange_api.conftest import ENTERPRISE_PURPOSE, PERSON_PURPOSE
from tests.exchange_api.lake_cases import ACME, LI, UNKNOWN, ZHANG


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'catalog.db'}"


PROFILE = f"/themes/person/profiles/{ZHANG}"


def _set_grant(api: Api, name: str, **values: object) -> None:
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        ctx.session.execute(
            update(Grant).where(Grant.id == api.grants[name]).values(**values)  # type: ignore[attr-defined]
        )


def _assert_no_data(response) -> None:  # type: ignore[no-untyped-def]
    body = response.text
    assert "张" not in body and ZHANG not in body and "fields" not in response.json()


def test_no_credential_is_401_and_an_api_key_is_not_a_data_credential(data_api: Api) -> None:
    bare = data_api.client.get(f"/api/v1{PROFILE}")
    assert bare.status_code == 401 and bare.json()["errorCode"] == "NOT_AUTHENTICATED"
    assert bare.headers["WWW-Authenticate"].startswith("Bearer")
    with_key = data_api.client.get(
        f"/api/v1{PROFILE}", headers={**data_api.headers("rs"), "X-Purpose": "x"}
    )
    assert with_key.status_code == 401 and with_key.json()["errorCode"] == "TOKEN_REQUIRED"


def test_token_expires_after_its_lifetime_and_a_forged_one_is_refused(data_api: Api, clock) -> None:  # type: ignore[no-untyped-def]
    headers = data_headers(data_api, "rs", PERSON_PURPOSE)
    assert data_api.client.get(f"/api/v1{PROFILE}", headers=headers).status_code == 200
    clock.advance(minutes=16)
    expired = data_api.client.get(f"/api/v1{PROFILE}", headers=headers)
    assert expired.status_code == 401 and "过期" in expired.json()["message"]
    header, body, signature = token(data_api, "rs").split(".")
    forged = f"{header}.{body}.{signature[:-4]}AAAA"
    refused = data_api.client.get(
        f"/api/v1{PROFILE}", headers={"Authorization": f"Bearer {forged}", "X-Purpose": "x"}
    )
    assert refused.status_code == 401 and refused.json()["errorCode"] == "INVALID_TOKEN"


def test_token_endpoint_takes_a_key_not_a_token(data_api: Api) -> None:
    again = data_api.client.post(
        "/api/v1/token", headers={"Authorization": f"Bearer {token(data_api, 'rs')}"}
    )
    assert again.status_code == 401


@pytest.mark.parametrize(
    ("who", "purpose", "params", "code", "words"),
    [
        pytest.param("zj", PERSON_PURPOSE, {}, "NO_GRANT", "无有效授权", id="no-grant"),
        pytest.param("rs", "别的用途", {}, "PURPOSE_MISMATCH", "用途不符", id="wrong-purpose"),
        pytest.param(
            "rs", PERSON_PURPOSE, {"fields": "姓名,死亡日期"}, "FIELD_NOT_GRANTED", "死亡日期",
            id="field-outside-grant",
        ),
    ],
)  # fmt: skip
def test_refusals_say_which_condition_failed_and_disclose_nothing(
    data_api: Api, who: str, purpose: str, params: dict[str, str], code: str, words: str
) -> None:
    response = data_get(data_api, who, PROFILE, purpose, **params)
    assert response.status_code == 403, response.text
    assert response.json()["errorCode"] == code and words in response.json()["message"]
    _assert_no_data(response)


def test_expired_grant_is_refused_as_expired(data_api: Api, clock) -> None:  # type: ignore[no-untyped-def]
    clock.advance(days=366)  # default grants last 365 days
    response = data_get(data_api, "rs", PROFILE, PERSON_PURPOSE)
    assert response.status_code == 403 and response.json()["errorCode"] == "GRANT_EXPIRED"
    assert "授权已过期" in response.json()["message"]
    _assert_no_data(response)


def test_missing_purpose_is_422_and_query_purpose_works(data_api: Api) -> None:
    missing = data_get(data_api, "rs", PROFILE, None)
    assert missing.status_code == 422 and missing.json()["details"][0]["field"] == "X-Purpose"
    ok = data_api.client.get(
        f"/api/v1{PROFILE}",
        params={"purpose": PERSON_PURPOSE},
        headers=data_headers(data_api, "rs", None),
    )
    assert ok.status_code == 200, ok.text


def test_person_profile_is_masked_by_default_with_provenance(data_api: Api) -> None:
    response = data_get(data_api, "rs", PROFILE, PERSON_PURPOSE)
    assert response.status_code == 200, response.text
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])
    fields = response.json()["fields"]
    assert set(fields) == {"身份证号", "姓名", "性别", "出生日期", "户籍地址", "参保状态",
                           "是否在世"}  # fmt: skip
    assert fields["姓名"] == {**fields["姓名"], "value": "张**", "masked": True}
    assert fields["身份证号"]["value"] == ZHANG[0] + "*" * 15 + ZHANG[-2:]
    assert fields["户籍地址"]["value"] == "浙江省杭州市西湖" + "*" * 8
    assert set(response.json()["withheld"]) == {"婚姻状况"}  # granted masked: left out
    assert fields["出生日期"] == {**fields["出生日期"], "value": "1980", "masked": True}
    assert fields["性别"] == {**fields["性别"], "value": "男", "masked": False}
    assert fields["姓名"]["source"] == "000004001/000001"
    assert fields["参保状态"]["source"] == "000003001/000002"
    assert fields["姓名"]["as_of"].startswith("2026-03-02T16:00:00")
    assert "张三丰" not in response.text
    assert response.json()["evidence"]["audit_seq"] >= 1


def test_raw_only_where_the_grant_says_raw(data_api: Api) -> None:
    response = data_get(data_api, "rs", f"/themes/enterprise/profiles/{ACME}", ENTERPRISE_PURPOSE)
    assert response.status_code == 200, response.text
    fields = response.json()["fields"]
    assert fields["法定代表人"] == {**fields["法定代表人"], "value": "张三丰", "masked": False}
    assert fields["注册资本"]["value"] == "1000.50"
    person = data_get(data_api, "rs", PROFILE, PERSON_PURPOSE, fields="姓名").json()
    assert person["fields"]["姓名"]["value"] == "张**"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        pytest.param(f"/themes/person/profiles/{ZHANG[:-1]}0", "校验位", id="check-digit"),
        pytest.param("/themes/person/profiles/12345", "长度", id="length"),
        pytest.param("/themes/enterprise/profiles/91330106000000001Z", "统一社会信用代码",
                     id="uscc"),
    ],
)  # fmt: skip
def test_malformed_identifier_is_422_with_the_reason_not_the_value(
    data_api: Api, path: str, reason: str
) -> None:
    response = data_get(data_api, "rs", path, PERSON_PURPOSE)
    assert response.status_code == 422, response.text
    body = response.json()
    assert reason in body["details"][0]["reason"] and body["details"][0]["field"] == "key"
    assert path.rsplit("/", 1)[-1] not in response.text


def test_unknown_key_is_404(data_api: Api) -> None:
    response = data_get(data_api, "rs", f"/themes/person/profiles/{UNKNOWN}", PERSON_PURPOSE)
    assert response.status_code == 404


def test_rate_limit_of_the_grant_gives_429_with_retry_after(data_api: Api) -> None:
    _set_grant(data_api, "person", rate_limit_per_minute=3)
    headers = data_headers(data_api, "rs", PERSON_PURPOSE)
    codes = [
        data_api.client.get(f"/api/v1{PROFILE}", headers=headers).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = data_api.client.get(f"/api/v1{PROFILE}", headers=headers)
    assert limited.json()["errorCode"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_revoked_grant_is_refused(data_api: Api, clock) -> None:  # type: ignore[no-untyped-def]
    _set_grant(data_api, "person", revoked_at=clock())
    response = data_get(data_api, "rs", PROFILE, PERSON_PURPOSE)
    assert response.status_code == 403 and response.json()["errorCode"] == "GRANT_REVOKED"


def test_batch_answers_in_order_and_caps_at_1000(data_api: Api) -> None:
    body = {"keys": [LI, UNKNOWN, ZHANG], "fields": ["姓名"]}
    response = data_post(data_api, "rs", "/themes/person/profiles/batch", body, PERSON_PURPOSE)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [p["found"] for p in result["data"]] == [True, False, True]
    assert [p["fields"].get("姓名", {}).get("value") for p in result["data"]] == [
        "李**",  # the name's length is not shown
        None,
        "张**",
    ]
    assert result["found"] == 2
    too_many = data_post(
        data_api, "rs", "/themes/person/profiles/batch", {"keys": [ZHANG] * 1001}, PERSON_PURPOSE
    )
    assert too_many.status_code == 422
    bad = data_post(
        data_api, "rs", "/themes/person/profiles/batch", {"keys": [ZHANG, "1234"]}, PERSON_PURPOSE
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "keys.1"


def test_openapi_documents_the_data_endpoints(data_api: Api) -> None:
    spec = data_api.client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/token", "/api/v1/themes/{theme}/profiles/{key}",
                 "/api/v1/themes/{theme}/profiles/batch", "/api/v1/verify/identity",
                 "/api/v1/verify/licence", "/api/v1/verify/person", "/api/v1/aggregates",
                 "/api/v1/extracts/{code}", "/api/v1/audit/usage"):  # fmt: skip
        assert path in spec["paths"], path
    profile = spec["paths"]["/api/v1/themes/{theme}/profiles/{key}"]["get"]
    assert {"401", "403", "422", "429"} <= set(profile["responses"])
