"""Attack 13.3: the complement attack on small-cell suppression of exact aggregates.

The attacker subtracts the released groups of a line (a one-way table, or one column of a
two-way table) from the line's released total; when the difference is between 1 and k-1, a
group smaller than k is known exactly, count and sum, although it was suppressed. In the test
lake 330183 holds 3 enterprises (registered capital 26000.50 + 27000.50 + 28000.50).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.exchange_api.api_helpers import data_post
from tests.exchange_api.conftest import ENTERPRISE_PURPOSE, _grant
from tests.exchange_api.lake_cases import SMALL_REGION

ENTERPRISE = "000008002/000001"
FIELDS = ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "企业状态"]
MEASURES = [{"op": "count"}, {"op": "sum", "field": "注册资本"}]


@pytest.fixture
def api(open_api):  # type: ignore[no-untyped-def]
    with open_api() as api:
        with api.catalog.unit() as ctx:
            _grant(ctx, "rs", ENTERPRISE, FIELDS, ENTERPRISE_PURPOSE, raw=["法定代表人"])
        yield api


def _ask(api: Any, group_by: list[str]) -> dict[str, Any]:
    body = {"resource_code": ENTERPRISE, "measures": MEASURES, "group_by": group_by}
    response = data_post(api, "rs", "/aggregates", body, ENTERPRISE_PURPOSE)
    assert response.status_code == 200, response.text
    return response.json()


def _derived(margin: dict[str, Any], released: list[dict[str, Any]], k: int) -> tuple | None:
    """(count, sum) of the hidden remainder of a line, when it is a group smaller than k."""
    count = margin["count"] - sum(g["values"]["count"] for g in released)
    total = margin["sum:注册资本"] - sum(g["values"]["sum:注册资本"] for g in released)
    return (count, round(total, 2)) if 0 < count < k else None


def test_suppressed_region_is_not_the_total_minus_the_released_regions(api) -> None:  # type: ignore[no-untyped-def]
    (total,) = _ask(api, [])["groups"]
    by_region = _ask(api, ["region"])
    assert SMALL_REGION not in {g["dimensions"]["region"] for g in by_region["groups"]}
    derived = _derived(total["values"], by_region["groups"], by_region["k"])
    assert derived is None, f"suppressed region recovered as count/sum {derived}"


def test_two_way_cells_are_not_a_column_total_minus_its_released_cells(api) -> None:  # type: ignore[no-untyped-def]
    k = 10
    (total,) = _ask(api, [])["groups"]
    margins = {
        axis: {g["dimensions"][axis]: g["values"] for g in _ask(api, [axis])["groups"]}
        for axis in ("region", "enterprise_status")
    }
    cells = _ask(api, ["region", "enterprise_status"])["groups"]
    leaks = []
    for axis, other in (("region", "enterprise_status"), ("enterprise_status", "region")):
        for value, margin in margins[axis].items():
            line = [g for g in cells if g["dimensions"][axis] == value]
            if (derived := _derived(margin, line, k)) is not None:
                leaks.append((axis, value, derived))
        # The one-way table against the grand total is a line too.
        one_way = [{"values": v} for v in margins[other].values()]
        if (derived := _derived(total["values"], one_way, k)) is not None:
            leaks.append((other, "*", derived))
    assert leaks == [], f"suppressed groups recovered by subtraction: {leaks}"
