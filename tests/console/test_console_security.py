"""Journey 6 and the console's defences, in a real Chromium against a real server.

A department cannot open another department's draft (404, as the API answers), nor a
steward-only page (403 from the same ``auth`` check as the API); a form posted without this
session's CSRF token is refused with 403 even from a signed-in browser; the session cookie is
HttpOnly and SameSite; every page carries a CSP without 'unsafe-inline'; a resource named
``<script>alert(1)</script>`` is shown as text and runs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from tests.console.console_server import Served, Visit

XSS = "<script>alert(1)</script>"


def _api(served: Served, role: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{served.url}/api/v1", headers={"X-API-Key": served.keys[role]}, timeout=30
    )


def test_signed_out_pages_redirect_to_sign_in_and_a_bad_key_is_refused(
    served: Served, visit: Callable[[], Visit]
) -> None:
    v = visit()
    page = v.page
    v.goto("/catalog?q=婚姻", "redirected")
    assert "/login?next=" in page.url
    page.get_by_label("访问密钥").fill("gs_notakey")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    v.shot("bad-key")
    assert "访问凭据无效" in page.locator(".errors").inner_text()
    page.get_by_label("访问密钥").fill(served.keys["requester"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/catalog\?q="))  # back where the user was going
    assert "人力资源和社会保障局" in page.locator("#who-name").inner_text()


def test_session_cookie_is_httponly_samesite_and_pages_carry_a_strict_csp(
    served: Served, visit: Callable[[], Visit]
) -> None:
    v = visit()
    v.sign_in("requester")
    (cookie,) = [c for c in v.context.cookies() if c["name"] == "govshare_console"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert served.keys["requester"] not in cookie["value"]  # the key itself never travels again
    assert v.page.evaluate("document.cookie") == ""  # no script can read it
    pages = ("/gaps/coverage.json", "/catalog", "/catalog/r/000001001/000001", "/gaps")
    for path in (
        *pages,
        "/review/demands",
        "/demands",
        "/grants",
        "/quality",
        "/usage",
        "/register",
    ):
        response = v.goto(path, path.strip("/").replace("/", "-"))
        assert response.status == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp

    v.page.get_by_role("button", name="退出").click()
    v.page.wait_for_url("**/login?done=signed_out")
    v.goto("/catalog", "after-sign-out")
    assert "/login" in v.page.url


def test_department_cannot_open_another_departments_draft_or_a_steward_page(
    served: Served, visit: Callable[[], Visit]
) -> None:
    with _api(served, "steward") as api:
        listed = api.get("/resources", params={"limit": 200}).json()["data"]
    other = served.department("other")
    drafts = [r for r in listed if r["state"] == "待提交" and r["provider_code"] != other]
    own = [r for r in listed if r["state"] == "已退回"]
    assert drafts and own[0]["provider_code"] == served.department("requester")
    v = visit()
    v.sign_in("other")
    for hidden in (drafts[0], own[0]):
        response = v.goto(f"/catalog/r/{hidden['code']}", "others-unpublished")
        assert response.status == 404  # as if it did not exist, like GET /api/v1/resources/{code}
        assert hidden["name"] not in v.page.content()
    for path in ("/review/resources", "/review/mounts"):
        response = v.goto(path, "steward-only")
        assert response.status == 403  # auth.review_resource / review_mount, as in the API
        assert "只有数据管理机构审核员" in v.page.locator("#error-message").inner_text()
    # The provider itself does see its unpublished resource, as in the API.
    owner = visit()
    owner.sign_in("requester")
    assert owner.goto(f"/catalog/r/{own[0]['code']}", "own-returned").status == 200
    assert owner.page.locator("#resource-state").inner_text() == "已退回"


def test_forged_forms_without_the_csrf_token_are_refused(
    served: Served, visit: Callable[[], Visit]
) -> None:
    with _api(served, "steward") as api:
        pending = api.get("/resources", params={"state": "待审核", "limit": 1}).json()["data"][0]
    v = visit()
    v.sign_in("steward")
    review = f"/catalog/r/{pending['code']}/review"
    # Posted from the signed-in browser (its cookie goes along), without or with a wrong token.
    for form in ({"decision": "approve"}, {"decision": "approve", "csrf_token": "forged"}):
        answer = v.page.request.post(review, form=form, max_redirects=0)
        assert answer.status == 403, form
        assert "CSRF" in answer.text()
    forged_logout = v.page.request.post("/logout", form={}, max_redirects=0)
    assert forged_logout.status == 403
    # Nothing happened: still pending, still signed in.
    with _api(served, "steward") as api:
        assert api.get(f"/resources/{pending['code']}").json()["state"] == "待审核"
    assert v.goto("/review/resources", "still-signed-in").status == 200
    # The sign-in form is protected too (double submit): a forged one is refused.
    fresh = visit()
    answer = fresh.page.request.post(
        "/login", form={"api_key": served.keys["steward"]}, max_redirects=0
    )
    assert answer.status == 403


def test_a_script_in_a_resource_name_is_shown_as_text(
    served: Served, visit: Callable[[], Visit]
) -> None:
    provider = served.department("other")
    with _api(served, "steward") as api:
        created = api.post(
            "/resources",
            json={
                "code": "000099002/000001",
                "name": XSS,
                "classification": "部门",
                "provider_code": provider,
                "share_type": "无条件共享",
                "update_cycle": "每日",
                "summary": '<img src=x onerror="alert(2)">',
                "items": [{"name": "<b>粗体</b>", "data_type": "C", "length": 10}],
            },
        )
        assert created.status_code == 201, created.text
    v = visit()
    dialogs: list[str] = []
    v.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    v.sign_in("other")
    v.goto("/catalog/r/000099002/000001", "xss-resource")
    assert v.page.locator("#resource-name").inner_text() == XSS
    assert v.page.locator("#items tbody td").first.inner_text() == "<b>粗体</b>"
    assert '<img src=x onerror="alert(2)">' in v.page.locator("dl.meta").inner_text()
    v.goto("/catalog?state=待提交", "xss-search")
    assert v.page.locator("#results td", has_text=XSS).count() == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in v.page.content()
    assert dialogs == []
