"""Privacy units and budget periods."""

from __future__ import annotations

from datetime import date

import pytest

from privacy.errors import InvalidPrivacyParameter
from privacy.units import PERSON, budget_period, privacy_unit


@pytest.mark.parametrize(
    ("kinds", "unit"),
    [
        pytest.param(["ric", None], PERSON, id="id-number-key"),
        pytest.param([None, None, "ric"], PERSON, id="id-number-item"),
        pytest.param(["uscc", "region"], "resource:000001001/000001", id="enterprises"),
        pytest.param([], "resource:000001001/000001", id="no-items"),
    ],
)
def test_resources_with_an_id_number_item_share_the_person_unit(kinds, unit) -> None:  # type: ignore[no-untyped-def]
    assert privacy_unit(resource_code="000001001/000001", identifier_kinds=kinds) == unit


def test_budget_periods_label_the_day() -> None:
    day = date(2026, 5, 31)
    assert budget_period(day, "year") == "2026"
    assert budget_period(day, "quarter") == "2026-Q2"
    assert budget_period(day, "month") == "2026-05"
    assert budget_period(day, "never") == "all"
    with pytest.raises(InvalidPrivacyParameter):
        budget_period(day, "week")
