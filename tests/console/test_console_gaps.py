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
