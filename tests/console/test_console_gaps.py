"""Journey 7 of issue 18: the gap page shows the same counts as ``govshare catalog gaps
--json`` (one ``catalog.gaps.gap_report`` behind both), and its coverage chart is drawn."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from tests.console.console_server import VENV_BIN, Served, Visit


def test_gap_page_shows_the_counts_of_the_cli(served: Served, visit: Callable[[], Visit]) -> None:
    cli = subprocess.run(
        [str(VENV_BIN / "govshare"), "catalog", "gaps", "--json"],
        env=served.env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    expected = json.loads(cli.stdout)
    v = visit()
    v.sign_in("steward")
    v.goto("/gaps", "gaps")
    page = v.page
    for section in (
        "uncatalogued_duties",
        "unmounted_resources",
        "unowned_demands",
        "no_capability_demands",
        "overdue_reviews",
        "source_conflicts",
    ):
        shown = page.locator(f"#gap-counts tr[data-section={section}] .count").inner_text()
        assert int(shown) == len(expected[section]), section
    total = sum(len(expected[s]) for s in expected if s != "coverage")
    assert int(page.locator("#gap-total").inner_text()) == total
    rows = page.locator("#coverage tbody tr")
    assert rows.count() == len(expected["coverage"])
    # The bar chart drew one bar per department with duties, from /gaps/coverage.json.
    chart = page.locator("#coverage-chart[data-rendered]")
    chart.wait_for()
    assert int(chart.get_attribute("data-rendered") or 0) == len(
        [c for c in expected["coverage"] if c["duties"]]
    )
    v.shot("gaps-chart")


def test_a_gap_links_to_its_object_and_a_steward_assigns_the_unowned_demand(
    served: Served, visit: Callable[[], Visit]
) -> None:
    v = visit()
    page = v.page
    v.sign_in("steward")
    v.goto("/gaps", "gaps")
    link = page.locator("#unowned_demands a").first
    code = link.inner_text()
    link.click()
    page.wait_for_url(f"**/demands/{code}")
    v.shot("unowned-demand")
    assert page.locator("#demand-state").inner_text() == "待分派"
    page.get_by_label("责任部门").select_option(served.department("other"))
    page.locator("#assign-demand").click()
    page.wait_for_url("**done=assigned")
    v.shot("assigned")
    assert page.locator("#demand-state").inner_text() != "待分派"
    assert "杭州市公安局" in page.locator("dl.meta").inner_text()


def test_provider_mounts_an_unmounted_resource_and_the_steward_approves_it(
    served: Served, visit: Callable[[], Visit]
) -> None:
    """A gap closed in the browser: 已发布未挂接 → 挂接待审核 → 已挂接, and the count drops."""
    steward = visit()
    steward.sign_in("steward")
    steward.goto("/gaps", "gaps-before")
    count = steward.page.locator("#gap-counts tr[data-section=unmounted_resources] .count")
    before = int(count.inner_text())
    provider_name = "国家税务总局杭州市税务局"
    gap = steward.page.locator("#unmounted_resources tr", has_text=provider_name).first
    name = gap.locator("a").inner_text()

    provider = visit()
    page = provider.page
    provider.sign_in("provider")
    provider.goto("/catalog?q=" + name, "find-unmounted")
    page.get_by_role("link", name=name).click()
    page.wait_for_url("**/catalog/r/**")
    page.get_by_label("挂接方式").select_option("接口")
    page.get_by_label("挂接目标").fill("https://api.sw.example/gov/qsgg")
    page.locator("#add-mount").click()
    page.wait_for_url("**done=mounted")
    provider.shot("mount-submitted")
    assert "挂接待审核" in page.locator("section", has_text="挂接").first.inner_text()

    steward.goto("/review/mounts", "mount-queue")
    row = steward.page.locator("#mount-queue tr", has_text=name)
    row.get_by_role("button", name="通过").click()
    steward.page.wait_for_url("**/review/mounts?done=mount")
    assert steward.page.locator("#mount-queue tr", has_text=name).count() == 0
    steward.goto("/gaps", "gaps-after")
    assert int(count.inner_text()) == before - 1
