"""Journey 1 of issue 18 in a real Chromium against a real ``govshare serve``: a steward
registers a resource with three data items (the form enforcing ``ResourceIn``'s rules), submits
it, approves it from the review queue, and finds it by search."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx

from tests.console.console_server import Served, Visit


def _api(served: Served, role: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{served.url}/api/v1", headers={"X-API-Key": served.keys[role]}, timeout=30
    )


def test_steward_registers_submits_approves_and_finds_a_resource(
    served: Served, visit: Callable[[], Visit]
) -> None:
    v = visit()
    page = v.page
    v.sign_in("steward")
    name = f"不动产登记信息{uuid.uuid4().hex[:6]}"
    v.goto("/register", "register-form")
    page.get_by_label("信息资源代码").fill("000099001")  # 前段码 only: numbered for us
    page.get_by_label("信息资源名称").fill(name)
    page.get_by_label("信息资源提供方").select_option(served.department("other"))
    page.get_by_label("信息资源分类").select_option("部门")
    page.get_by_label("共享类型").select_option("有条件共享")
    page.get_by_label("更新周期").select_option("每日")
    page.get_by_label("信息资源摘要").fill("不动产权属登记的基本信息。")
    rows = [("不动产单元号", "C", "28"), ("权利人名称", "C", "200"), ("登记日期", "D", "")]
    for i, (item, kind, length) in enumerate(rows):
        page.locator(f"#item-{i}-name").fill(item)
        page.locator(f"#item-{i}-data_type").select_option(kind)
        page.locator(f"#item-{i}-length").fill(length)
    page.locator("#item-0-is_key").check()

    # 有条件共享 without its 共享条件: the schema's rule, shown in Chinese, nothing written.
    page.locator("#save-resource").click()
    page.wait_for_load_state()
    v.shot("register-refused")
    assert "有条件共享的资源必须填写共享条件" in page.locator(".errors").inner_text()
    assert page.locator("#item-2-name").input_value() == "登记日期"  # what was typed stays

    page.get_by_label("共享条件").fill("用于不动产统一登记相关法定职责")
    page.locator("#save-resource").click()
    page.wait_for_url(re.compile(r"/catalog/r/000099001/\d{6}\?done=created"))
    v.shot("resource-draft")
    code = page.locator(".code").first.inner_text()
    assert page.locator("#resource-state").inner_text() == "待提交"
    assert page.locator("#items tbody tr").count() == 3

    page.locator("#submit-resource").click()
    page.wait_for_url("**done=submitted")
    assert page.locator("#resource-state").inner_text() == "待审核"

    v.goto("/review/resources", "review-queue")
    row = page.locator("#resource-queue tr", has_text=code)
    row.get_by_role("button", name="通过").click()
    page.wait_for_url("**/review/resources?done=approved")
    v.shot("review-approved")
    assert page.locator("#resource-queue tr", has_text=code).count() == 0

    v.goto("/catalog", "catalogue")
    page.get_by_label("检索词").fill(name)
    page.get_by_role("button", name="检索").click()
    page.wait_for_url(re.compile(r"q=%E4%B8%8D"))
    page.locator("#results tr", has_text=name).wait_for()
    v.shot("search-found")
    assert page.locator("#result-count").inner_text() == "共 1 条"
    assert "已发布" in page.locator("#results tr", has_text=name).inner_text()
    with _api(served, "requester") as api:  # published: every department finds it by API too
        assert api.get("/resources", params={"q": name}).json()["count"] == 1


def test_demand_queue_shows_due_dates_and_the_overdue_flag(
    served: Served, visit: Callable[[], Visit]
) -> None:
    """公安 must answer a demand of the demo catalogue whose 10 working days have passed."""
    with _api(served, "other") as api:
        pending = [
            d
            for d in api.get("/demands", params={"state": "待审核"}).json()["data"]
            if d["provider_code"] == served.department("other")
        ]
    assert any(d["overdue"] for d in pending)
    v = visit()
    v.sign_in("other")
    v.goto("/review", "demand-queue")
    assert v.page.url.endswith("/review/demands")  # a department has no steward queues
    for d in pending:
        row = v.page.locator("#demand-queue tr", has_text=d["code"])
        assert row.locator(".due").inner_text().startswith(d["due_date"])
        assert ("已超期" in row.inner_text()) is d["overdue"]


def test_provider_edits_its_returned_resource_and_submits_it_again(
    served: Served, visit: Callable[[], Visit]
) -> None:
    with _api(served, "requester") as api:
        returned = next(
            r
            for r in api.get("/resources", params={"state": "已退回"}).json()["data"]
            if r["provider_code"] == served.department("requester")
        )
    v = visit()
    page = v.page
    v.sign_in("requester")
    v.goto(f"/catalog/r/{returned['code']}", "returned")
    page.locator("#edit-resource").click()
    page.wait_for_url("**/register/edit?**")
    v.shot("edit-form")
    assert page.get_by_label("信息资源代码（不可修改）").input_value() == returned["code"]
    assert page.locator("#item-0-name").input_value() != ""  # the items come back to edit
    page.get_by_label("信息资源摘要").fill("按审核意见补充了证书类别说明。")
    page.locator("#save-resource").click()
    page.wait_for_url("**done=updated")
    v.shot("edited")
    assert "按审核意见补充了证书类别说明。" in page.locator("dl.meta").inner_text()
    page.locator("#submit-resource").click()
    page.wait_for_url("**done=submitted")
    assert page.locator("#resource-state").inner_text() == "待审核"
    assert page.locator("#edit-resource").count() == 0  # 待审核 is no longer editable
