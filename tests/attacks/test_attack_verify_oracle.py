"""Attack 13.4: 核验 as an oracle.

The masked profile shows 婚姻状况 as ``**``; asking ``married`` of everyone then recovers it.
A 核验 is a question about one subject in one business case: the case and the matter are
required, calls are bounded per case and per subject (counted in the database, so a second
worker sees the same count), the provider is alerted on volume, and a field granted masked
cannot be read back through a 核验.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog.models import AuditEntry
from exchange_api.app import create_app
from tests.attacks.conftest import VERIFY_ALERT_AT, VERIFY_PER_CASE, VERIFY_PER_SUBJECT
from tests.exchange_api.api_helpers import Api, data_headers, data_post
from tests.exchange_api.conftest import PERSON_PURPOSE, _grant
from tests.exchange_api.lake_cases import DEAD, LI, ZHANG, person_id

MARRIAGE_PURPOSE = "婚姻状况核验（婚姻登记）"
PEOPLE = [ZHANG, LI, DEAD] + [person_id("110105", "19700101", 300 + n) for n in range(6)]


def _case(n: int, **extra: Any) -> dict[str, Any]:
    return {"case_ref": f"BJ2026-{n:06d}", "business_matter": "就业困难人员认定", **extra}


def _check(api: Api, body: dict[str, Any], purpose: str = PERSON_PURPOSE) -> Any:
    return data_post(api, "rs", "/verify/person", body, purpose)


@pytest.mark.parametrize("missing", ["case_ref", "business_matter"])
def test_a_verification_names_its_case_and_matter(data_api: Api, missing: str) -> None:
    body = {"id_number": ZHANG, "check": "alive", **_case(1)}
    del body[missing]
    response = _check(data_api, body)
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["details"]] == [missing]
    for path, fields in (
        ("/verify/identity", {"id_number": ZHANG, "name": "张三丰"}),
        ("/verify/licence", {"uscc": "x" * 18, "licence_type": "营业执照"}),
    ):
        refused = data_post(data_api, "rs", path, fields, PERSON_PURPOSE)
        assert refused.status_code == 422
        assert {"case_ref", "business_matter"} <= {d["field"] for d in refused.json()["details"]}


def test_married_cannot_be_read_back_from_a_masked_grant(data_api: Api) -> None:
    """The reproduced attack: one married check per person (each its own case) after the
    masked profile. Every answer is refused; none separates 已婚 from the others."""
    api = data_api
    answers = [_check(api, {"id_number": p, "check": "married", **_case(n)})
               for n, p in enumerate(PEOPLE)]  # fmt: skip
    assert all(a.status_code == 403 for a in answers), [a.text for a in answers]
    assert {a.json()["errorCode"] for a in answers} == {"FIELD_MASKED"}
    # Granted raw (a marriage-registration duty), the same 核验 is answered.
    with api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        _grant(ctx, "rs", "000008002/000002", ["身份证号", "婚姻状况"], MARRIAGE_PURPOSE,
               raw=["婚姻状况"])  # fmt: skip
    body = {"id_number": ZHANG, "check": "married", **_case(99)}
    allowed = _check(api, body, MARRIAGE_PURPOSE)
    assert allowed.status_code == 200 and allowed.json()["result"] is True


@pytest.mark.concurrency
def test_calls_are_bounded_per_case_and_per_subject_across_workers(
    data_api: Api, settings: Any, lake_root: str, exchange_settings: Any, clock: Any
) -> None:
    api = data_api
    # A second app on the same catalogue: another worker process of the same deployment.
    other = TestClient(
        create_app(settings.model_copy(update={"lake_root": lake_root}), clock=clock,
                   exchange_settings=exchange_settings)
    )  # fmt: skip
    with other:
        clients = [api.client, other]
        for n in range(VERIFY_PER_CASE):  # one case, different people, alternating workers
            body = {"id_number": PEOPLE[n + 2], "check": "alive", **_case(7)}
            response = clients[n % 2].post(
                "/api/v1/verify/person", json=body, headers=data_headers(api, "rs", PERSON_PURPOSE)
            )
            assert response.status_code == 200, response.text
        over = _check(api, {"id_number": PEOPLE[6], "check": "alive", **_case(7)})
        assert over.status_code == 429 and over.json()["errorCode"] == "QUOTA_EXCEEDED"
        for n in range(VERIFY_PER_SUBJECT):  # one person, new cases each time
            body = {"id_number": LI, "check": "insured", **_case(100 + n)}
            response = clients[(n + 1) % 2].post(
                "/api/v1/verify/person", json=body, headers=data_headers(api, "rs", PERSON_PURPOSE)
            )
            assert response.status_code == 200, response.text
        body = {"id_number": LI, "name": "李四", **_case(200)}
        again = data_post(api, "rs", "/verify/identity", body, PERSON_PURPOSE)
        assert again.status_code == 429 and again.json()["errorCode"] == "QUOTA_EXCEEDED"


def test_the_audit_entry_names_the_case_and_the_matter(data_api: Api) -> None:
    response = _check(data_api, {"id_number": ZHANG, "check": "alive", **_case(42)})
    assert response.status_code == 200, response.text
    seq = response.json()["evidence"]["audit_seq"]
    with data_api.catalog.unit() as ctx:  # type: ignore[attr-defined]
        entry = ctx.session.scalars(select(AuditEntry).where(AuditEntry.seq == seq)).one()
        assert (entry.case_ref, entry.business_matter) == ("BJ2026-000042", "就业困难人员认定")
    chain = data_api.get("steward", "/audit/verify").json()
    assert chain["ok"] is True


def test_the_provider_is_alerted_on_volume_and_on_refusals(data_api: Api) -> None:
    api = data_api
    assert api.get("sjj", "/audit/alerts").json() == []
    for n, person in enumerate(PEOPLE[:VERIFY_ALERT_AT]):
        assert _check(api, {"id_number": person, "check": "alive", **_case(n)}).status_code == 200
    for n in range(VERIFY_PER_SUBJECT + 1):
        _check(api, {"id_number": PEOPLE[-1], "check": "alive", **_case(500 + n)})
    alerts = api.get("sjj", "/audit/alerts").json()
    kinds = {a["kind"] for a in alerts}
    assert {"verify_volume", "verify_per_subject"} <= kinds, alerts
    assert {a["department_code"] for a in alerts} == {api.codes["rs"]}
    assert all(ZHANG not in a["message"] for a in alerts)
    assert api.get("rs", "/audit/alerts", department=api.codes["sjj"]).status_code == 403
