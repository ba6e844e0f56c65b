"""Secondary suppression: no hidden cell is a released line total minus released cells."""

from __future__ import annotations

import itertools

import pytest

from privacy.suppression import secondary_suppression


def _recoverable(counts: dict[tuple, int], hidden: set[tuple], k: int) -> list[tuple]:
    """Lines whose hidden remainder (margin - released cells) is a group of 1..k-1 records."""
    leaks = []
    dims = len(next(iter(counts)))
    for axis in range(dims):
        lines: dict[tuple, list[tuple]] = {}
        for cell in counts:
            lines.setdefault(cell[:axis] + cell[axis + 1 :], []).append(cell)
        for key, line in lines.items():
            rest = sum(counts[c] for c in line if c in hidden)
            if 0 < rest < k and len(line) > 1:
                leaks.append((axis, key, rest))
    return leaks


def test_one_small_cell_in_a_line_takes_the_next_smallest_with_it() -> None:
    counts = {("a",): 40, ("b",): 25, ("c",): 3}
    assert secondary_suppression(counts, 10) == {("b",), ("c",)}


def test_hidden_cells_of_a_line_hold_at_least_k_records_together() -> None:
    counts = {("a",): 40, ("b",): 30, ("c",): 3, ("d",): 2, ("e",): 12}
    hidden = secondary_suppression(counts, 10)
    assert hidden == {("c",), ("d",), ("e",)}
    assert ("a",) not in hidden and ("b",) not in hidden


@pytest.mark.parametrize("seed", range(20))
def test_two_way_tables_leak_no_small_remainder_along_rows_or_columns(seed: int) -> None:
    sizes = [(seed * 7 + r * 5 + c * 3) % 23 for r, c in itertools.product(range(4), range(5))]
    counts = {
        (r, c): n for (r, c), n in zip(itertools.product(range(4), range(5)), sizes, strict=True)
        if n
    }  # fmt: skip
    hidden = secondary_suppression(counts, 10)
    assert {c for c, n in counts.items() if n < 10} <= hidden
    assert _recoverable(counts, hidden, 10) == []


def test_a_table_without_small_cells_is_released_whole() -> None:
    assert secondary_suppression({("a", "x"): 12, ("b", "x"): 30}, 10) == set()
    assert secondary_suppression({(): 5}, 10) == {()}
