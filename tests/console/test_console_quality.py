"""Journey 5 of issue 18: a steward releases a held batch in the console and the resource's
pass-rate chart shows it; a provider reads its own quality notices and reports only.

The held batch is recorded by the quality gate's own ``quality.run.conclude`` (as the ingest
job's gate step does: GE Data Docs, then the result) on the seeded home before the server
starts; the steward opens a batch's Data Docs page from the console.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from catalog import repository
from catalog.context import CatalogContext
from catalog.mounts import table_mount
from checks import gate as verdict
from dags import lineage
from quality import run, service
from tests.console.console_server import Served, Visit, serve

REGISTRATION = "000001001/000001"  # 企业登记信息, provided by 市场监管
BATCHES = {"a" * 32: 0, "b" * 32: 50}  # batch id -> failing rows of 1000: published, held


def _two_batches(ctx: CatalogContext) -> None:
    ruleset = service.ruleset_for(ctx, REGISTRATION, today=date(2026, 3, 3))
    for batch_id, failed in BATCHES.items():
        counts = {r.id: 0 for r in ruleset.rules} | {"uscc:统一社会信用代码": failed}
        decision = verdict.decide(
            rows_read=1000,
            rows_failed=failed,
            threshold=ruleset.threshold,
            reasons=verdict.reasons(ruleset, counts, rows_read=1000),
        )
        sample = (
            [{"统一社会信用代码": "9133******0001", "企业名称": "杭州某某有限公司"}]
            if failed
            else []
        )
        run.conclude(  # as the ingest job's gate step: Data Docs, then the result
            ctx, ruleset=ruleset, batch_id=batch_id, decision=decision, counts=counts, sample=sample
        )


def _lineage(ctx: CatalogContext) -> None:
    """What the ingest and theme DAGs report (dags.lineage.emit, the real emitter)."""
    mount = table_mount(repository.resource(ctx.session, REGISTRATION))
    assert mount is not None
    table, at = mount.target, datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    landing = lineage.location_dataset(
        str(ctx.settings.home / "data" / table / "2026-12-01.csv"), alias="landing.2026-12-01.csv"
    )
    validated = lineage.location_dataset(
        str(ctx.settings.home / "lake" / "validated" / table), alias=f"validated.{table}",
        version=4, rows=1000,
    )  # fmt: skip
    lineage.emit(
        ctx.settings, state="COMPLETE", dag_id=f"govshare_ingest_{table}", run_id="r1", at=at,
        inputs=[landing], outputs=[validated],
    )  # fmt: skip
    theme = lineage.location_dataset(
        str(ctx.settings.home / "lake" / "themes" / "theme_enterprise"),
        alias="themes.theme_enterprise",
    )
    lineage.emit(
        ctx.settings, state="COMPLETE", dag_id="govshare_themes", run_id="r2", at=at,
        inputs=[validated], outputs=[theme],
    )  # fmt: skip


def _seed(ctx: CatalogContext) -> None:
    _two_batches(ctx)
    _lineage(ctx)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory, _seed)


def test_steward_releases_a_held_batch_and_the_chart_shows_it(
    served: Served, visit: Callable[[], Visit]
) -> None:
    held = "b" * 32
    v = visit()
    page = v.page
    v.sign_in("steward")
    v.goto("/quality", "quality-overview")
    page.locator("#pass-rate-chart[data-rendered]").wait_for()
    row = page.locator(f"#held tr[data-batch='{held}']")
    assert "95.00%" in row.inner_text()
    row.get_by_label("处理意见").fill("核实为上游格式问题，合格行可先入库")
    row.get_by_role("button", name="放行").click()
    page.wait_for_url("**/quality?done=released")
    v.shot("released")
    assert page.locator(f"#held tr[data-batch='{held}']").count() == 0

    v.goto(f"/quality/r/{REGISTRATION}", "resource-quality")
    batch = page.locator(f"section.batch[data-batch='{held}']")
    assert batch.locator(".decision").inner_text() == "已放行"
    assert "核实为上游格式问题" in batch.inner_text()
    assert "9133******0001" in batch.inner_text()  # the masked failure sample
    chart = page.locator("#resource-rate-chart[data-rendered]")
    chart.wait_for()
    assert chart.get_attribute("data-rendered") == "2"
    assert chart.get_attribute("data-decisions") == "已入库,已放行"
    v.shot("resource-quality-chart")

    # The batch's GE Data Docs page, served by the console in a sandbox (an opaque origin):
    # its own scripts and the vendored stylesheets run, and nothing breaks the CSP.
    batch.get_by_role("link", name="Data Docs 质检页面").click()
    page.wait_for_url(f"**/quality/docs/govshare_000001001_000001/{held}.html")
    page.wait_for_load_state("load")
    v.shot("data-docs")
    assert page.evaluate("window.origin") == "null"
    assert "apple-system" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate("typeof window.jQuery") == "function"
    page.get_by_role("link", name="Home").first.click()
    page.wait_for_url("**/quality/docs/index.html")
    assert page.locator(f"a[href$='{held}.html']").count() == 1
    v.shot("data-docs-index")

    # The resource page itself shows the trend and who uses it (provider and stewards only).
    v.goto(f"/catalog/r/{REGISTRATION}", "resource-with-trend")
    page.locator("#resource-rate-chart[data-rendered='2']").wait_for()
    page.locator("#users table").wait_for()
    page.locator("#history table").wait_for()
    # Lineage from the OpenLineage events: landing file → validated table → theme.
    page.locator("#lineage-sources").wait_for()
    assert page.locator("#lineage-sources").inner_text() == "landing.2026-12-01.csv"
    assert "v4" in page.locator("#lineage-tables").inner_text()
    assert page.locator("#lineage-themes").inner_text() == "themes.theme_enterprise"
    v.shot("resource-trend")


def test_a_provider_sees_its_own_reports_only(served: Served, visit: Callable[[], Visit]) -> None:
    with httpx.Client(
        base_url=f"{served.url}/api/v1", headers={"X-API-Key": served.keys["steward"]}
    ) as api:
        provider = api.get(f"/resources/{REGISTRATION}").json()["provider_code"]
    assert provider not in {served.department(r) for r in ("provider", "requester", "other")}
    v = visit()
    v.sign_in("other")
    assert v.goto(f"/quality/r/{REGISTRATION}", "not-its-report").status == 403
    assert v.goto("/quality/pass-rates.json", "no-overview").status == 403
    page = f"/quality/docs/govshare_000001001_000001/{'b' * 32}.html"
    assert v.goto(page, "not-its-data-docs").status == 403
    assert v.goto("/quality/docs/index.html", "no-data-docs-index").status == 403
    assert v.goto("/quality", "own-notices").status == 200
    forged = v.page.request.post(f"/quality/batches/{'a' * 32}/reject", form={}, max_redirects=0)
    assert forged.status == 403
