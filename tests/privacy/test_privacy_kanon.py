"""k-anonymity on row sets and small-cell suppression on aggregate tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy import (
    InvalidPrivacyParameter,
    equivalence_classes,
    k_anonymity,
    suppress_small_groups,
    violating_groups,
)

QIS = ["age_band", "sex", "region"]


def make_row(
    age_band: str = "30-39", sex: str = "男", region: str = "330100", **extra: Any
) -> dict[str, Any]:
    return {"age_band": age_band, "sex": sex, "region": region, "diagnosis": "略", **extra}


ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "age_band": st.sampled_from(["20-29", "30-39", "40-49"]),
            "sex": st.sampled_from(["男", "女"]),
            "region": st.sampled_from(["330100", "330200"]),
            "diagnosis": st.text(max_size=3),
        }
    ),
    max_size=40,
)
QI_SUBSETS = st.lists(st.sampled_from(QIS), unique=True, max_size=3)


def class_size_of(row: dict[str, Any], rows: list[dict[str, Any]], qis: list[str]) -> int:
    """How many rows share ``row``'s quasi-identifiers, by comparing every pair."""
    return sum(all(other[q] == row[q] for q in qis) for other in rows)


def test_k_anonymity_is_the_smallest_class() -> None:
    rows = [make_row(), make_row(), make_row(), make_row(sex="女"), make_row(sex="女")]

    assert k_anonymity(rows, QIS) == 2
    assert k_anonymity(rows, ["age_band", "region"]) == 5


def test_k_anonymity_of_no_rows_is_zero() -> None:
    assert k_anonymity([], QIS) == 0


def test_k_anonymity_accepts_a_generator() -> None:
    assert k_anonymity((make_row() for _ in range(3)), QIS) == 3


def test_k_anonymity_refuses_a_missing_column_rather_than_guessing() -> None:
    with pytest.raises(InvalidPrivacyParameter) as caught:
        k_anonymity([make_row()], ["age_band", "birth_year"])
    assert "birth_year" in str(caught.value)


def test_k_anonymity_refuses_a_bare_string_of_column_names() -> None:
    with pytest.raises(InvalidPrivacyParameter):
        k_anonymity([make_row()], "sex")


def test_violating_groups_names_classes_below_k() -> None:
    rows = [make_row(), make_row(), make_row(sex="女")]

    assert violating_groups(rows, QIS, 2) == {("30-39", "女", "330100"): 1}
    assert violating_groups(rows, QIS, 1) == {}


@pytest.mark.parametrize("k", [0, -1, True, 2.0], ids=repr)
def test_k_must_be_a_positive_integer(k: int) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        violating_groups([make_row()], QIS, k)
    with pytest.raises(InvalidPrivacyParameter):
        suppress_small_groups({"a": 5}, k)


def test_suppress_small_groups_drops_cells_below_k_including_zero() -> None:
    table = {("西湖区", "男"): 12, ("西湖区", "女"): 3, ("上城区", "男"): 0, ("上城区", "女"): 5}

    kept, suppressed = suppress_small_groups(table, 5)

    assert kept == {("西湖区", "男"): 12, ("上城区", "女"): 5}
    assert suppressed == 2


def test_suppress_small_groups_accepts_numpy_counts() -> None:
    kept, suppressed = suppress_small_groups({"a": np.int64(7), "b": np.int64(2)}, 5)

    assert kept == {"a": 7}
    assert suppressed == 1


@pytest.mark.parametrize("count", [-1, 2.5, True, "3"], ids=repr)
def test_suppress_small_groups_refuses_non_counts(count: object) -> None:
    with pytest.raises(InvalidPrivacyParameter):
        suppress_small_groups({"a": count}, 2)  # type: ignore[dict-item]


@given(rows=ROWS, qis=QI_SUBSETS)
def test_k_anonymity_equals_the_smallest_class_counted_pairwise(
    rows: list[dict[str, Any]], qis: list[str]
) -> None:
    expected = min((class_size_of(row, rows, qis) for row in rows), default=0)

    assert k_anonymity(rows, qis) == expected
    assert sum(equivalence_classes(rows, qis).values()) == len(rows)


@given(rows=ROWS, qis=QI_SUBSETS, k=st.integers(1, 6))
def test_violating_groups_cover_exactly_the_rows_in_small_classes(
    rows: list[dict[str, Any]], qis: list[str], k: int
) -> None:
    groups = violating_groups(rows, qis, k)

    assert all(size < k for size in groups.values())
    assert sum(groups.values()) == sum(class_size_of(row, rows, qis) < k for row in rows)
    assert (not groups) == (k_anonymity(rows, qis) >= k or not rows)


@given(groups=st.dictionaries(st.text(max_size=4), st.integers(0, 30)), k=st.integers(1, 12))
def test_suppress_small_groups_partitions_the_table(groups: dict[str, int], k: int) -> None:
    kept, suppressed = suppress_small_groups(groups, k)

    assert all(count >= k for count in kept.values())
    assert all(groups[key] == count for key, count in kept.items())
    assert suppressed == sum(count < k for count in groups.values())
    assert len(kept) + suppressed == len(groups)
