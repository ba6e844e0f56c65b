"""Data Docs under the console: a batch's GE page for its provider and stewards, the index
for stewards, through ``quality.docs_pages`` (never a path on the server's disk), sandboxed by
its own Content-Security-Policy. On the app in-process with pages the gate really wrote."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from catalog.domain import Role
from catalog.store import Catalog
from checks import gate as verdict
from exchange_api.app import create_app
from infra.settings import Settings
from quality import run, service
from quality.docs_assets import docs_root
from tests.conftest import Clock
from tests.console.in_process import issue_keys, sign_in

REGISTRATION = "000001001/000001"  # 企业登记信息, provided by 市场监管 (scjg)
BATCH = "c" * 32
ROLES = {"steward": ("sjj", Role.STEWARD), "scjg": ("scjg", Role.DEPARTMENT),
         "ga": ("ga", Role.DEPARTMENT)}  # fmt: skip


@dataclass
class Docs:
    client: TestClient
    keys: dict[str, str]
    settings: Settings

    def as_(self, role: str) -> TestClient:
        assert sign_in(self.client, self.keys[role]).status_code == 303
        return self.client


@pytest.fixture
def docs(demo_catalog: Catalog, settings: Settings, clock: Clock) -> Iterator[Docs]:
    with demo_catalog.unit() as ctx:
        issued = issue_keys(ctx, ROLES)
        ruleset = service.ruleset_for(ctx, REGISTRATION, today=date(2026, 3, 3))
        counts = {r.id: 0 for r in ruleset.rules} | {"uscc:统一社会信用代码": 40}
        decision = verdict.decide(
            rows_read=1000, rows_failed=40, threshold=ruleset.threshold,
            reasons=verdict.reasons(ruleset, counts, rows_read=1000),
        )  # fmt: skip
        run.conclude(
            ctx, ruleset=ruleset, batch_id=BATCH, decision=decision, counts=counts, sample=[]
        )
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Docs(client, issued, settings)


def test_batch_page_is_linked_and_served_to_its_provider_and_stewards_only(docs: Docs) -> None:
    report = docs.as_("scjg").get(f"/quality/r/{REGISTRATION}").text
    links = re.findall(r'href="(/quality/docs/[^"]+)"', report)
    assert links == [f"/quality/docs/govshare_000001001_000001/{BATCH}.html"]
    assert str(docs.settings.home) not in report  # no server path reaches the browser

    for role in ("scjg", "steward"):
        page = docs.as_(role).get(links[0])
        assert page.status_code == 200, role
        csp = page.headers["content-security-policy"]
        assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
        assert "connect-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "../static/vendor/bootstrap-4.3.1/dist/css/bootstrap.min.css" in page.text
    refused = docs.as_("ga").get(links[0])
    assert refused.status_code == 403 and "only the provider or a steward" in refused.text

    # The assets the page loads, relative to it, are the vendored library files.
    asset = docs.client.get(
        "/quality/docs/static/vendor/bootstrap-4.3.1/dist/css/bootstrap.min.css"
    )
    assert asset.status_code == 200 and "Bootstrap" in asset.text[:300]
    assert asset.headers["access-control-allow-origin"] == "*"  # fonts load in the sandbox


def test_the_index_is_for_stewards_and_nothing_else_under_the_folder_is_served(
    docs: Docs,
) -> None:
    assert docs.as_("steward").get("/quality").text.count('href="/quality/docs/index.html"') == 1
    index = docs.client.get("/quality/docs/index.html")
    assert index.status_code == 200 and f"{BATCH}.html" in index.text
    assert "sandbox" in index.headers["content-security-policy"]
    assert docs.as_("scjg").get("/quality/docs/index.html").status_code == 403
    assert 'href="/quality/docs/index.html"' not in docs.client.get("/quality").text

    root = docs_root(docs.settings)
    stray = root / "govshare_000001001_000001" / ("d" * 32 + ".html")
    stray.write_text("<p>not recorded by the gate</p>", encoding="utf-8")
    docs.as_("steward")
    for path in (
        f"/quality/docs/govshare_000001001_000001/{'d' * 32}.html",  # on disk, not a batch page
        "/quality/docs/govshare_000001001_000001/%2e%2e/index.html",
        "/quality/docs/..%2f..%2fcatalog.db",
        "/quality/docs/static/vendor/%2e%2e/%2e%2e/index.html",
        "/quality/docs/",
        f"/quality/docs/other_suite/{BATCH}.html",  # a real batch under the wrong folder
    ):
        answer = docs.client.get(path, follow_redirects=False)
        assert answer.status_code == 404, path
        assert "not recorded" not in answer.text

    docs.client.cookies.clear()
    signed_out = docs.client.get("/quality/docs/index.html", follow_redirects=False)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]
