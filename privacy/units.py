"""Privacy units (隐私单元) and budget periods: whose privacy an ε budget protects, how long.

A differential-privacy guarantee is about one *privacy unit*: adding or removing everything about
one person must change the released answers only a little. The budget therefore belongs to the
unit's population, not to the table that happens to be asked: every resource whose rows hold
citizens' ID numbers (人口基本信息, 一人一档, 社保缴费...) describes the same people and draws on
one budget, or a department could spend a fresh budget per resource on the same persons.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from privacy.errors import InvalidPrivacyParameter

PERSON = "person"
"""The population of natural persons identified by 公民身份号码 (ID number)."""


class BudgetPeriod(StrEnum):
    """How long one ε budget lasts before a fresh one starts (per department and unit)."""

    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    NEVER = "never"


def privacy_unit(*, resource_code: str, identifier_kinds: Iterable[str | None]) -> str:
    """The population a resource's rows are about, decided from its data items.

    ``identifier_kinds`` are the kinds of national identifier each data item holds (``"ric"``
    for an ID number), as the catalogue detects them from the item names. A resource with any
    ID-number item is about persons; any other resource is its own unit, so its budget protects
    whatever its rows describe without being shared by unrelated tables.
    """
    if any(kind == "ric" for kind in identifier_kinds):
        return PERSON
    return f"resource:{resource_code}"


def budget_period(day: date, period: BudgetPeriod | str) -> str:
    """The label of the period ``day`` falls in: ``2026``, ``2026-Q1``, ``2026-03`` or ``all``."""
    try:
        kind = BudgetPeriod(period)
    except ValueError:
        raise InvalidPrivacyParameter(
            "budget_period", "must be year, quarter, month or never"
        ) from None
    if kind is BudgetPeriod.YEAR:
        return f"{day.year}"
    if kind is BudgetPeriod.QUARTER:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if kind is BudgetPeriod.MONTH:
        return f"{day.year}-{day.month:02d}"
    return "all"
