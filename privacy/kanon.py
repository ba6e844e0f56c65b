"""k-anonymity (k-匿名) checks on row sets and small-cell suppression on aggregate tables.

A release is k-anonymous when every combination of quasi-identifier values is shared by at least
k rows, so no row can be singled out by what an outsider may already know (GB/T 37964-2019).
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, SupportsIndex, TypeVar

from privacy.errors import InvalidPrivacyParameter

K = TypeVar("K", bound=Hashable)

QuasiKey = tuple[Any, ...]
"""One equivalence class: the quasi-identifier values in the order they were named."""


def _check_k(k: int) -> None:
    """k below 1 would make every release pass, which is never what the caller meant."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidPrivacyParameter("k", "must be an integer >= 1")


def equivalence_classes(
    rows: Iterable[Mapping[str, Any]], quasi_identifiers: Sequence[str]
) -> Counter[QuasiKey]:
    """Count rows per combination of quasi-identifier values (等价类).

    A row lacking one of the columns is refused: treating it as ``None`` would let a misspelt
    column name put every row in one class and report a falsely high k.
    """
    if isinstance(quasi_identifiers, str):
        raise InvalidPrivacyParameter("quasi_identifiers", "must be a sequence of column names")
    columns = tuple(quasi_identifiers)
    classes: Counter[QuasiKey] = Counter()
    for row in rows:
        try:
            key = tuple(row[column] for column in columns)
        except KeyError:
            missing = next((column for column in columns if column not in row), "?")
            raise InvalidPrivacyParameter(
                "quasi_identifiers", f"column {missing!r} is missing from a row"
            ) from None
        try:
            classes[key] += 1
        except TypeError:
            raise InvalidPrivacyParameter(
                "rows", "quasi-identifier values must be hashable"
            ) from None
    return classes


def k_anonymity(rows: Iterable[Mapping[str, Any]], quasi_identifiers: Sequence[str]) -> int:
    """The k the rows achieve: the size of the smallest equivalence class, 0 for no rows."""
    classes = equivalence_classes(rows, quasi_identifiers)
    return min(classes.values(), default=0)


def violating_groups(
    rows: Iterable[Mapping[str, Any]], quasi_identifiers: Sequence[str], k: int
) -> dict[QuasiKey, int]:
    """Equivalence classes smaller than ``k`` with their sizes: what to generalise or suppress.

    The keys are quasi-identifier values, i.e. data about people: use them to fix the release,
    never put them in a log line or an error message.
    """
    _check_k(k)
    classes = equivalence_classes(rows, quasi_identifiers)
    return {key: size for key, size in classes.items() if size < k}


def suppress_small_groups(groups: Mapping[K, SupportsIndex], k: int) -> tuple[dict[K, int], int]:
    """Drop cells of an aggregate table whose count is below ``k`` (小值抑制).

    Returns the kept cells and the *number of cells* suppressed (not the sum of their counts,
    which would let a reader recover a lone suppressed cell). Zero counts are suppressed too:
    "nobody here has X" discloses as much as "one person here has X". Publishing a table total
    beside the kept cells can still reveal a single suppressed cell; that secondary suppression
    is the caller's to decide.
    """
    _check_k(k)
    kept: dict[K, int] = {}
    suppressed = 0
    for key, raw_count in groups.items():
        try:
            # operator.index also accepts numpy integers from pandas or DuckDB results.
            count = operator.index(raw_count)
        except TypeError:
            count = -1
        if isinstance(raw_count, bool) or count < 0:
            raise InvalidPrivacyParameter("groups", "counts must be non-negative integers")
        if count >= k:
            kept[key] = count
        else:
            suppressed += 1
    return kept, suppressed
