"""The quality routes over HTTP: stewards manage rules and thresholds, providers read."""

from __future__ import annotations

from tests.exchange_api.conftest import demo_api  # noqa: F401 - fixture
from tests.pipelines.conftest import REGISTRATION


def test_steward_manages_rules_and_provider_reads_them(demo_api) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    api = demo_api
    path = f"/quality/resources/{REGISTRATION}"
    rule = {"item": "企业状态", "kind": "in_set", "params": {"values": ["存续", "注销"]}}
    refused = api.post("scjg", f"{path}/rules", rule)
    assert refused.status_code == 403, refused.text
    added = api.post("steward", f"{path}/rules", rule)
    assert added.status_code == 201, added.text
    sql = api.post("steward", f"{path}/rules", {**rule, "kind": "sql"})
    assert sql.status_code == 422
    bad = api.post("steward", f"{path}/rules", {**rule, "params": {"values": []}})
    assert bad.status_code == 422 and bad.json()["errorCode"] == "BAD_RULE"
    listed = api.get("scjg", f"{path}/rules")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["threshold"] == 0.99
    assert [r["kind"] for r in body["data"] if r["origin"] == "steward"] == ["in_set"]
    assert api.get("sw", f"{path}/rules").status_code == 403
    profile = api.client.put(
        f"/api/v1{path}/profile", json={"threshold": 0.95}, headers=api.headers("steward")
    )
    assert profile.status_code == 200 and profile.json()["threshold"] == 0.95
    removed = api.client.delete(
        f"/api/v1/quality/rules/{added.json()['id']}", headers=api.headers("steward")
    )
    assert removed.status_code == 204
    assert api.get("scjg", f"{path}/report").json()["results"] == []
    held = api.post("steward", "/quality/batches/nosuchbatch/release", {})
    assert held.status_code == 404
