"""axe-core (vendored from npm) run inside the main console pages: no serious or critical
violations (labels, contrast, landmarks, keyboard-reachable controls).

The page's CSP would refuse an injected script, so this test's browser context bypasses CSP;
every other test runs under the real policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.console.console_server import Served

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PAGES = [
    "/login",
    "/catalog",
    "/catalog/r/000001001/000001",
    "/gaps",
    "/register",
    "/review/resources",
    "/review/mounts",
    "/demands",
    "/grants",
    "/grants/1/history",
    "/mounts/1/history",
    "/quality",
    "/quality/r/000001001/000001",
    "/transfer",
    "/usage",
]


def test_main_pages_have_no_serious_accessibility_violations(browser: Any, served: Served) -> None:
    context = browser.new_context(base_url=served.url, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    try:
        for path in PAGES:
            if path == "/catalog":  # sign in after checking the sign-in page itself
                page.get_by_label("访问密钥").fill(served.keys["steward"])
                page.get_by_role("button", name="登录").click()
                page.wait_for_url("**/catalog")
            else:
                answer = page.goto(path)
                assert answer is not None and answer.status == 200, path
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [
                f"{v['id']}: {v['help']} ({len(v['nodes'])})"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if serious:
                found[path] = serious
        # Keyboard: the skip link is the first stop and leads to the content.
        page.goto("/catalog")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    finally:
        context.close()
    assert not found, found
