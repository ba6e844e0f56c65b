"""Demands over HTTP: routing answers, provider decisions, visibility and steward proxies."""

from __future__ import annotations

from typing import Any

from tests.exchange_api.api_helpers import Api

LEGAL_BASIS = "《政务信息资源共享管理暂行办法》（国发〔2016〕51号）"


def _demand(resource: str | None, items: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "resource_code": resource,
        "wanted_items": items,
        "purpose": "高效办成一件事：企业开办",
        "legal_basis": LEGAL_BASIS,
        **extra,
    }


def test_unconditional_demand_is_granted_at_once_with_personal_fields_masked(
    demo_api: Api,
) -> None:
    body = _demand("000001001/000001", ["统一社会信用代码", "企业名称", "法定代表人"])
    response = demo_api.post("ga", "/demands", body)
    assert response.status_code == 201, response.text
    demand = response.json()
    assert demand["state"] == "已同意"
    assert demand["requester_code"] == demo_api.codes["ga"]
    assert demand["provider_code"] == demo_api.codes["scjg"]
    assert demand["grant"]["department_code"] == demo_api.codes["ga"]
    assert demand["grant"]["fields"] == {
        "统一社会信用代码": "raw",
        "企业名称": "raw",
        "法定代表人": "masked",  # personal information: masked unless raw access is granted
    }


def test_conditional_demand_waits_for_the_provider_who_alone_decides(demo_api: Api) -> None:
    body = _demand("000002001/000001", ["统一社会信用代码", "纳税信用等级"])
    created = demo_api.post("ga", "/demands", body)
    assert created.status_code == 201
    demand = created.json()
    assert demand["state"] == "待审核"
    assert demand["grant"] is None
    # Tuesday 3 March 2026 + 10 working days (国发〔2016〕51号) = Tuesday 17 March.
    assert demand["due_date"] == "2026-03-17"
    assert demand["overdue"] is False
    decision = f"/demands/{demand['code']}/decision"

    for outsider in ("zj", "ga", "steward"):  # another department, the requester, the authority
        refused = demo_api.post(outsider, decision, {"approve": True})
        assert refused.status_code == 403, outsider
        assert "提供部门" in refused.json()["message"]

    approved = demo_api.post("sw", decision, {"approve": True, "reason": "符合共享条件"})
    assert approved.status_code == 200
    assert approved.json()["state"] == "已同意"
    assert approved.json()["grant"]["fields"]["纳税信用等级"] == "raw"

    twice = demo_api.post("sw", decision, {"approve": False, "reason": "重复"})
    assert twice.status_code == 409
    assert "当前状态为「已同意」" in twice.json()["message"]


def test_refusal_without_reason_is_422(demo_api: Api) -> None:
    body = _demand("000002001/000001", ["统一社会信用代码", "纳税信用等级"])
    code = demo_api.post("ga", "/demands", body).json()["code"]
    response = demo_api.post("sw", f"/demands/{code}/decision", {"approve": False})
    assert response.status_code == 422
    assert "理由" in response.json()["message"]


def test_department_sees_only_its_own_demands(demo_api: Api) -> None:
    zj = demo_api.codes["zj"]
    own = demo_api.get("zj", "/demands").json()
    assert own["count"] >= 2
    assert all(zj in (d["requester_code"], d["provider_code"]) for d in own["data"])

    everything = demo_api.get("steward", "/demands").json()
    assert everything["count"] == 9 > own["count"]
    pending = demo_api.get("steward", "/demands", state="待审核").json()
    assert pending["count"] >= 1
    assert {d["state"] for d in pending["data"]} == {"待审核"}

    foreign = next(
        d for d in everything["data"] if zj not in (d["requester_code"], d["provider_code"])
    )
    assert demo_api.get("zj", f"/demands/{foreign['code']}").status_code == 403
    assert demo_api.get("steward", f"/demands/{foreign['code']}").status_code == 200
    assert demo_api.get("zj", "/demands/XQ00000000000000").status_code == 404


def test_demand_is_made_for_the_callers_department_or_the_one_a_steward_names(
    demo_api: Api,
) -> None:
    body = _demand("000001001/000001", ["统一社会信用代码", "企业名称"])
    unnamed = demo_api.post("steward", "/demands", body)
    assert unnamed.status_code == 422
    assert unnamed.json()["details"][0]["field"] == "requester_code"

    proxied = demo_api.post("steward", "/demands", body, requester_code=demo_api.codes["rs"])
    assert proxied.status_code == 201
    assert proxied.json()["requester_code"] == demo_api.codes["rs"]

    for_other = demo_api.post("ga", "/demands", body, requester_code=demo_api.codes["rs"])
    assert for_other.status_code == 403


def test_withdraw_and_assign_over_http(demo_api: Api) -> None:
    body = _demand("000002001/000001", ["统一社会信用代码", "纳税信用等级"])
    code = demo_api.post("ga", "/demands", body).json()["code"]
    assert demo_api.post("zj", f"/demands/{code}/withdraw").status_code == 403
    withdrawn = demo_api.post("ga", f"/demands/{code}/withdraw")
    assert withdrawn.json()["state"] == "已撤回"
    assert demo_api.post("ga", f"/demands/{code}/withdraw").status_code == 409

    unowned = demo_api.get("steward", "/demands", state="待分派").json()["data"][0]
    target = f"/demands/{unowned['code']}/assign"
    assignment = {"provider_code": demo_api.codes["zj"]}
    assert demo_api.post("zj", target, assignment).status_code == 403
    assigned = demo_api.post("steward", target, assignment)
    assert assigned.status_code == 200
    assert assigned.json()["provider_code"] == demo_api.codes["zj"]
    assert assigned.json()["state"] != "待分派"
    bad_code = demo_api.post("steward", target, {"provider_code": "not-a-code"})
    assert bad_code.status_code == 422
    assert bad_code.json()["details"][0]["field"] == "provider_code"


def test_demand_and_mount_history_over_http_follow_who_may_see_them(demo_api: Api) -> None:
    body = _demand("000002001/000001", ["统一社会信用代码", "纳税信用等级"])
    code = demo_api.post("ga", "/demands", body).json()["code"]
    demo_api.post("sw", f"/demands/{code}/decision", {"approve": True, "reason": "符合"})
    for party in ("ga", "sw", "steward"):
        history = demo_api.get(party, f"/demands/{code}/history")
        assert history.status_code == 200, party
        entries = history.json()["data"]
        assert entries[0]["action"] == "提出需求"
        assert entries[-1]["before"]["state"] == "待审核"
        assert entries[-1]["after"]["state"] == "已同意"
        assert entries[-1]["before"]["reason"] is None
        assert entries[-1]["after"]["reason"] == "符合"  # the decision's reason is in its entry
    assert demo_api.get("zj", f"/demands/{code}/history").status_code == 403

    resource = demo_api.get("zj", "/resources/000002001/000001").json()
    mount_id = resource["mounts"][0]["id"]
    mounted = demo_api.get("zj", f"/mounts/{mount_id}/history")
    assert mounted.status_code == 200
    assert "挂接通过" in [e["action"] for e in mounted.json()["data"]]
    assert demo_api.get("zj", "/mounts/999999/history").status_code == 404
