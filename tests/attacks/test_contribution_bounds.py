"""Attack on contribution bounds (issue 13, partial).

个人社保缴纳信息 has four monthly rows per person. Noise calibrated for one row per person
then protects a person only at 4x the stated ε. Each person's rows are now bounded to
``max_rows_per_person`` (c) before aggregating and the noise is calibrated to c.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attacks.lake import MONTHS, PEOPLE, build_attack_lake
from tests.exchange_api.api_helpers import data_post
from tests.exchange_api.conftest import _grant

CONTRIBUTIONS = "000003001/000002"
PURPOSE = "住房公积金缴存核定"
BOUNDS = {"field": "缴费基数", "lower": 0, "upper": 20000}


def _count(api):  # type: ignore[no-untyped-def]
    with api.catalog.unit() as ctx:
        _grant(ctx, "zj", CONTRIBUTIONS, ["缴费基数", "险种"], PURPOSE)
    body = {"resource_code": CONTRIBUTIONS, "measures": [{"op": "count"}, {"op": "sum", **BOUNDS}]}
    response = data_post(api, "zj", "/aggregates", body, PURPOSE)
    assert response.status_code == 200, response.text
    return response.json()


def test_each_person_counts_once_when_noise_is_calibrated_for_one_row(open_api) -> None:  # type: ignore[no-untyped-def]
    # ε 10 split over count and sum: count noise scale 0.2, sum noise scale 4000.
    with open_api(budget_epsilon=20.0, epsilon_per_query=10.0) as api:
        result = _count(api)
    (group,) = result["groups"]
    assert abs(group["values"]["count"] - PEOPLE) < 10, (
        f"{group['values']['count']} rows counted for {PEOPLE} people with noise for one row each"
    )
    assert abs(group["values"]["sum:缴费基数"] - PEOPLE * 5000) < 100_000
    assert result["contribution_bound"] == 1


def test_a_larger_bound_keeps_more_rows_and_widens_the_noise(open_api) -> None:  # type: ignore[no-untyped-def]
    from privacy.dp import sum_sensitivity

    with open_api(budget_epsilon=20.0, epsilon_per_query=10.0, max_rows_per_person=MONTHS) as api:
        result = _count(api)
    (group,) = result["groups"]
    assert abs(group["values"]["count"] - PEOPLE * MONTHS) < 20
    assert result["contribution_bound"] == MONTHS and f"≤{MONTHS} row" in result["noise"]
    # The sensitivity the sum is calibrated to is the bound times one row's clamp width.
    assert sum_sensitivity(0, 20000, contributions=MONTHS) == pytest.approx(
        MONTHS * sum_sensitivity(0, 20000), rel=1e-6
    )


def test_the_bounding_window_is_skipped_only_where_no_person_exceeds_the_bound(
    tmp_path: Path,
) -> None:
    # The window that keeps c rows per person costs seconds on millions of persons; it is
    # skipped where the data shows nobody has more than c rows, learned once per version.
    from exchange_api.aggregates import _most_rows_per
    from lake.delta import TableRef
    from lake.readers import LakeReader

    lake = build_attack_lake(tmp_path)
    reader = LakeReader()
    monthly = reader.snapshot(TableRef(lake, "validated", "rs_person_contributions"))
    population = reader.snapshot(TableRef(lake, "validated", "ga_population"))
    assert _most_rows_per(monthly, "身份证号") == MONTHS
    assert _most_rows_per(population, "身份证号") == 1
    # Kept with the version: a second call does not scan again.
    assert monthly.fact("most_rows_per:身份证号", lambda: -1) == MONTHS
