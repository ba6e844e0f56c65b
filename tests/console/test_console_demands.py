"""Journeys 2 and 3 of issue 18 in a real Chromium against a real ``govshare serve``: a
department files a demand for a 有条件共享 resource, the provider sees it with its working-day
due date and approves, the requester sees the grant; a refusal without a reason is stopped,
then made with one."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import httpx

from tests.console.console_server import Served, Visit

CONDITIONAL_NAME = "纳税信用等级信息"  # 税务, 有条件共享, mounted in the demo catalogue


def _api(served: Served, role: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{served.url}/api/v1", headers={"X-API-Key": served.keys[role]}, timeout=30
    )


def test_demand_for_a_conditional_resource_is_approved_and_granted(
    served: Served, visit: Callable[[], Visit]
) -> None:
    requester = visit()
    page = requester.page
    requester.sign_in("requester")
    requester.goto(
        f"/catalog?department={served.department('provider')}&share_type=有条件共享",
        "catalogue-filtered",
    )
    page.get_by_role("link", name=CONDITIONAL_NAME).click()
    page.wait_for_url("**/catalog/r/**")
    requester.shot("resource")
    page.locator("#file-demand").click()
    page.wait_for_url("**/demands/new?**")
    page.get_by_label("统一社会信用代码", exact=False).check()
    page.get_by_label("纳税信用等级", exact=False).check()
    page.get_by_label("用途").fill("就业补贴申领资格审核")
    page.get_by_label("法律依据").fill("《就业促进法》第十五条")
    page.get_by_label("业务事项").fill("企业吸纳就业补贴")
    page.get_by_label("应用场景").fill("一件事：企业招工")
    requester.shot("demand-form")
    page.locator("#submit-demand").click()
    page.wait_for_url(re.compile(r"/demands/[^/?]+\?done=demand"))
    requester.shot("demand-filed")
    code = page.url.split("/demands/")[1].split("?")[0]
    assert page.locator("#demand-state").inner_text() == "待审核"
    due = page.locator("#due-date").inner_text()
    with _api(served, "requester") as api:
        assert due.startswith(api.get(f"/demands/{code}").json()["due_date"])

    provider = visit()
    provider.sign_in("provider")
    provider.goto("/review/demands", "demand-queue")
    row = provider.page.locator("#demand-queue tr", has_text=code)
    assert row.locator(".due").inner_text().startswith(due[:10])
    assert "未超期" in row.inner_text()
    row.get_by_role("link", name=code).click()
    provider.page.wait_for_url(f"**/demands/{code}")
    provider.page.get_by_label("答复意见").fill("符合法定职责，同意共享")
    provider.page.locator("#approve-demand").click()
    provider.page.wait_for_url("**done=decided")
    provider.shot("approved")
    assert provider.page.locator("#demand-state").inner_text() == "已同意"

    requester.goto(f"/demands/{code}", "grant")
    assert requester.page.locator("#demand-state").inner_text() == "已同意"
    grant = requester.page.locator("#grant").inner_text()
    assert "纳税信用等级" in grant and "有效至" in grant
    # The demand's history, loaded by the page (htmx): who moved it, 待审核 → 已同意.
    history = requester.page.locator("#history table")
    history.wait_for()
    answered = history.locator("tr", has_text="符合法定职责").first.inner_text()
    assert "待审核" in answered and "已同意" in answered
    assert "国家税务总局杭州市税务局" in answered  # who: the provider, by name
    requester.shot("demand-history")
    requester.goto("/grants", "grants")
    row = requester.page.locator("#grants tr", has_text="就业补贴申领资格审核")
    assert row.count() == 1
    row.get_by_role("link", name="历史").click()
    requester.page.wait_for_url("**/grants/*/history")
    requester.shot("grant-history")
    assert "授权" in requester.page.locator("#history").inner_text()
    assert code in requester.page.locator("#history").inner_text()

    outsider = visit()  # neither party: auth.view_demand refuses, as the API does
    outsider.sign_in("other")
    assert outsider.goto(f"/demands/{code}", "not-a-party").status == 403


def test_refusal_without_a_reason_is_stopped_then_refused_with_one(
    served: Served, visit: Callable[[], Visit]
) -> None:
    with _api(served, "requester") as api:
        resource = api.get(
            "/resources",
            params={"q": CONDITIONAL_NAME, "department": served.department("provider")},
        ).json()["data"][0]
        filed = api.post(
            "/demands",
            json={
                "resource_code": resource["code"],
                "wanted_items": ["纳税信用等级"],
                "purpose": "评优评先资格核查",
                "legal_basis": "《社会信用体系建设规划纲要》",
            },
        )
        assert filed.status_code == 201, filed.text
        code = filed.json()["code"]

    v = visit()
    page = v.page
    v.sign_in("provider")
    v.goto(f"/demands/{code}", "to-answer")
    page.locator("#refuse-demand").click()
    page.wait_for_load_state()
    v.shot("refusal-without-reason")
    assert "拒绝共享必须说明理由" in page.locator(".errors").inner_text()
    assert page.locator("#demand-state").inner_text() == "待审核"

    page.get_by_label("答复意见").fill("该用途不在共享条件范围内")
    page.locator("#refuse-demand").click()
    page.wait_for_url("**done=decided")
    v.shot("refused")
    assert page.locator("#demand-state").inner_text() == "已拒绝"
    assert page.locator("#decision-reason").inner_text() == "该用途不在共享条件范围内"


def test_provider_sees_calls_on_its_resources_by_department_and_purpose(
    served: Served, visit: Callable[[], Visit]
) -> None:
    """Every data call is audited, refused ones too: 公安 has no grant on 税务's resource."""
    with _api(served, "provider") as api:
        code = api.get("/resources", params={"q": CONDITIONAL_NAME}).json()["data"][0]["code"]
    with httpx.Client(base_url=f"{served.url}/api/v1", timeout=30) as api:
        token = api.post("/token", headers={"X-API-Key": served.keys["other"]}).json()
        for purpose in ("治安管理信用核查", "治安管理信用核查", "户籍业务办理"):
            refused = api.post(
                "/aggregates",
                json={"resource_code": code, "measures": [{"op": "count"}]},
                headers={
                    "Authorization": f"Bearer {token['access_token']}",
                    "X-Purpose": quote(purpose),
                },
            )
            assert refused.status_code == 403
    v = visit()
    v.sign_in("provider")
    v.goto("/usage", "usage")
    rows = v.page.locator("#usage-purposes tr", has_text="杭州市公安局")
    assert rows.count() == 2
    cells = rows.filter(has_text="治安管理信用核查").locator("td").all_inner_texts()
    assert cells == ["杭州市公安局", "治安管理信用核查", "拒绝", "2"]
    chart = v.page.locator("#usage-chart[data-rendered]")
    chart.wait_for()
    assert int(chart.get_attribute("data-rendered") or 0) >= 3
    v.shot("usage-chart")

    outsider = visit()  # another department may not read 税务's usage
    outsider.sign_in("requester")
    assert outsider.goto(f"/usage?department={served.department('provider')}", "no").status == 403
    steward = visit()
    steward.sign_in("steward")
    steward.goto(f"/usage?department={served.department('provider')}", "steward-usage")
    assert "签名哈希链完整" in steward.page.locator("#chain-state").inner_text()


def test_requester_withdraws_a_demand_and_provider_revokes_a_grant_with_a_reason(
    served: Served, visit: Callable[[], Visit]
) -> None:
    with _api(served, "requester") as api:
        code = api.get("/resources", params={"q": CONDITIONAL_NAME}).json()["data"][0]["code"]
        filed = [
            api.post(
                "/demands",
                json={
                    "resource_code": code,
                    "wanted_items": ["纳税信用等级"],
                    "purpose": purpose,
                    "legal_basis": "《社会保险法》",
                },
            ).json()["code"]
            for purpose in ("社保补贴复核", "稳岗返还审核")
        ]
    with _api(served, "provider") as api:
        approved = api.post(
            f"/demands/{filed[1]}/decision", json={"approve": True, "reason": "同意"}
        )
        assert approved.status_code == 200, approved.text

    requester = visit()
    requester.sign_in("requester")
    requester.goto(f"/demands/{filed[0]}", "to-withdraw")
    requester.page.locator("#withdraw-demand").click()
    requester.page.wait_for_url("**done=withdrawn")
    assert requester.page.locator("#demand-state").inner_text() == "已撤回"

    provider = visit()
    page = provider.page
    provider.sign_in("provider")
    provider.goto("/grants", "grants")
    row = page.locator("#grants tr", has_text="稳岗返还审核")
    row.get_by_role("button", name="撤销").click()
    page.wait_for_load_state()
    provider.shot("revoke-without-reason")
    assert page.locator(".errors").count() == 1
    assert "有效" in page.locator("#grants tr", has_text="稳岗返还审核").inner_text()
    row = page.locator("#grants tr", has_text="稳岗返还审核")
    row.get_by_label("撤销理由").fill("业务已办结，收回授权")
    row.get_by_role("button", name="撤销").click()
    page.wait_for_url("**done=revoked")
    provider.shot("revoked")
    assert (
        "已撤销：业务已办结，收回授权"
        in page.locator("#grants tr", has_text="稳岗返还审核").inner_text()
    )
    # The holder sees it revoked, and has no revoke button on what it holds.
    requester.goto("/grants", "held-grants")
    held = requester.page.locator("#grants tr", has_text="稳岗返还审核")
    assert "已撤销" in held.inner_text() and held.get_by_role("button").count() == 0
