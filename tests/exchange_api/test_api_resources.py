"""Catalogue routes over HTTP: the review workflow, slash codes, search and strict bodies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exchange_api.api_helpers import Api, publish, resource_body


def test_resource_review_workflow_over_http(small_api: Api) -> None:
    api = small_api
    body = resource_body(api.codes["first"])
    created = api.post("first", "/resources", body)
    assert created.status_code == 201
    assert created.json()["state"] == "待提交"
    code = body["code"]

    edited = api.client.put(
        f"/api/v1/resources/{code}",
        json={**body, "summary": "修改后的摘要"},
        headers=api.headers("first"),
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2

    assert api.post("first", f"/resources/{code}/submit").json()["state"] == "待审核"

    self_review = api.post("first", f"/resources/{code}/review", {"approve": True})
    assert self_review.status_code == 403
    assert self_review.json()["errorCode"] == "NOT_AUTHORIZED"

    reviewed = api.post("steward", f"/resources/{code}/review", {"approve": True})
    assert reviewed.status_code == 200
    assert reviewed.json()["state"] == "已发布"
    assert api.get("second", f"/resources/{code}").json()["state"] == "已发布"

    again = api.post("first", f"/resources/{code}/submit")
    assert again.status_code == 409
    error = again.json()
    assert error["errorCode"] == "ILLEGAL_TRANSITION"
    assert "当前状态为「已发布」，不能执行「提交」" in error["message"]
    assert error["details"]["state"] == "已发布"

    history = api.get("second", f"/resources/{code}/history").json()
    assert [h["action"] for h in history["data"]] == ["编目", "修改", "提交", "审核通过"]
    assert history["data"][-1]["actor"].startswith("steward:")
    versions = api.get("second", f"/resources/{code}/versions").json()
    assert [v["version"] for v in versions["data"]] == [1, 2]


def test_mount_review_and_change_over_http(small_api: Api) -> None:
    api = small_api
    code = publish(api, "first")
    mount = api.post("first", f"/resources/{code}/mounts", {"kind": "库表", "target": "t_case"})
    assert mount.status_code == 201
    assert mount.json()["state"] == "挂接待审核"
    mount_id = mount.json()["id"]

    assert api.post("first", f"/mounts/{mount_id}/review", {"approve": True}).status_code == 403
    approved = api.post("steward", f"/mounts/{mount_id}/review", {"approve": True})
    assert approved.json()["state"] == "已挂接"

    foreign = api.post("second", f"/mounts/{mount_id}/change", {"kind": "库表", "target": "x"})
    assert foreign.status_code == 403
    change = api.post("first", f"/mounts/{mount_id}/change", {"kind": "库表", "target": "t_v2"})
    assert change.json()["state"] == "变更待审核"
    assert change.json()["pending_target"] == "t_v2"
    assert api.post("steward", "/mounts/999999/review", {"approve": True}).status_code == 404


def test_offline_request_then_steward_decision(small_api: Api) -> None:
    api = small_api
    code = publish(api, "first")
    assert (
        api.post("second", f"/resources/{code}/offline", {"reason": "停止更新"}).status_code == 403
    )
    asked = api.post("first", f"/resources/{code}/offline", {"reason": "业务调整"})
    assert asked.json()["state"] == "下线中"
    refused = api.post("first", f"/resources/{code}/offline/decision", {"confirm": True})
    assert refused.status_code == 403
    done = api.post("steward", f"/resources/{code}/offline/decision", {"confirm": True})
    assert done.json()["state"] == "已下线"


def _bad_resource(api: Api) -> dict[str, Any]:
    body = resource_body(api.codes["first"])
    body["items"][0]["length"] = False
    return body


BAD_REQUESTS = {
    # name: (caller, method, path, body builder, field, location)
    "number-given-false": ("first", "post", "/resources", _bad_resource, "items.0.length", "body"),
    "missing-legal-basis": (
        "first",
        "post",
        "/demands",
        lambda api: {"wanted_items": ["姓名"], "purpose": "核验"},
        "legal_basis",
        "body",
    ),
    "bool-given-string": (
        "steward",
        "post",
        "/resources/000009001/000001/review",
        lambda api: {"approve": "1"},
        "approve",
        "body",
    ),
    "unknown-field": (
        "steward",
        "post",
        "/resources/000009001/000001/offline/decision",
        lambda api: {"confirm": True, "force": True},
        "force",
        "body",
    ),
    "limit-too-large": ("first", "get", "/resources?limit=500", None, "limit", "query"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_malformed_request_is_422_naming_the_field(small_api: Api, case: tuple[Any, ...]) -> None:
    who, method, path, build, field, location = case
    kwargs: dict[str, Any] = {"headers": small_api.headers(who)}
    if build is not None:
        kwargs["json"] = build(small_api)
    response = small_api.client.request(method, f"/api/v1{path}", **kwargs)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["errorCode"] == "VALIDATION_ERROR"
    assert {"field": field, "location": location} in [
        {"field": d["field"], "location": d["location"]} for d in error["details"]
    ]
    assert field in error["message"]


def test_model_rule_is_422_with_its_chinese_reason(small_api: Api) -> None:
    body = resource_body(small_api.codes["first"], share_type="有条件共享")
    response = small_api.post("first", "/resources", body)
    assert response.status_code == 422
    assert "必须填写共享条件" in response.json()["details"][0]["reason"]


def test_resource_code_with_a_slash_is_read_through_the_path(demo_api: Api) -> None:
    plain = demo_api.get("ga", "/resources/000001001/000001")
    assert plain.status_code == 200
    assert plain.json()["code"] == "000001001/000001"
    assert plain.json()["mounts"][0]["state"] == "已挂接"
    encoded = demo_api.get("ga", "/resources/000001001%2F000001")
    assert encoded.status_code == 200 and encoded.json() == plain.json()
    versions = demo_api.get("ga", "/resources/000001001/000001/versions").json()
    assert versions["count"] >= 1
    assert versions["data"][0]["snapshot"]["code"] == "000001001/000001"
    history = demo_api.get("ga", "/resources/000001001/000001/history").json()
    assert "审核通过" in [h["action"] for h in history["data"]]
    missing = demo_api.get("ga", "/resources/000001001/999999")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "NOT_FOUND"


def test_list_and_search_resources_with_filters(demo_api: Api) -> None:
    scjg = demo_api.codes["scjg"]
    listed = demo_api.get("ga", "/resources", department=scjg).json()
    assert listed["count"] >= 4
    assert {r["provider_code"] for r in listed["data"]} == {scjg}

    page = demo_api.get("ga", "/resources", limit=2, offset=1).json()
    # 29 in the demo; 公安 does not see three other departments' unpublished resources.
    assert len(page["data"]) == 2 and page["count"] == 26
    assert demo_api.get("steward", "/resources", limit=1).json()["count"] == 29

    found = demo_api.get("ga", "/resources", q="企业 信用").json()
    assert found["count"] >= 1
    assert all(r["state"] for r in found["data"])

    published = demo_api.get("ga", "/resources", state="已发布", share_type="无条件共享").json()
    assert published["count"] >= 1
    assert {(r["state"], r["share_type"]) for r in published["data"]} == {("已发布", "无条件共享")}

    unknown = demo_api.get("ga", "/resources", department="91330100MA27XL0A4Y")
    assert unknown.status_code == 404
    bad_enum = demo_api.get("ga", "/resources", classification="其他")
    assert bad_enum.status_code == 422
    assert bad_enum.json()["details"][0]["field"] == "classification"
