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


def test_a_release_over_http_records_the_order_and_starts_no_lake_job(  # type: ignore[no-untyped-def]
    demo_api,  # noqa: F811
    settings,
    tmp_path,
) -> None:
    """The API only records the steward's decision; the batch stays 暂缓入库 with nothing
    published until the lake side runs (the gate-orders DAG, the next ingest or `quality
    apply`), which then publishes it exactly once."""
    from catalog import batches
    from catalog.store import Catalog
    from jobs.batch import apply_pending_orders, ingest_one
    from lake import delta
    from pipelines.ingest import tables
    from tests.pipelines.conftest import REG_TABLE, registration_row, write_csv

    rows = [registration_row(n) for n in range(1, 19)]
    rows += [registration_row(19, 统一社会信用代码=""), registration_row(20, 成立日期="2020-13-45")]
    held = ingest_one(
        settings, resource_code=REGISTRATION, path=write_csv(tmp_path / "reg_1.csv", rows)
    )
    assert held.held and held.engine == "local"
    validated = tables(settings, REG_TABLE)["validated"]

    released = demo_api.post("steward", f"/quality/batches/{held.batch_id}/release", {})

    assert released.status_code == 200, released.text
    assert released.json()["lake_side"] == "pending"
    assert released.json()["rows_to_publish"] == 18
    assert delta.version(validated) is None  # the request published nothing itself
    catalog = Catalog(settings)
    with catalog.unit() as ctx:
        assert batches.batch_or_none(ctx, held.batch_id).status == batches.HELD
    done = apply_pending_orders(settings)
    assert [(order.batch_id, version) for order, version in done] == [(held.batch_id, 0)]
    with catalog.unit() as ctx:
        assert batches.batch_or_none(ctx, held.batch_id).status == batches.PUBLISHED
    catalog.dispose()
    assert apply_pending_orders(settings) == []  # carried out once, nothing pending after
    assert delta.version(validated) == 0
