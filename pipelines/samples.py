"""Failing rows as the reports and the gate sample show them: located, personal items masked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from checks.rules import RuleSet
from pipelines.classify import ERRORS, ROW_NUMBER
from privacy.masking import mask


def sample_entry(
    data: dict[str, Any],
    ruleset: RuleSet,
    *,
    locate: Callable[[int | None, Sequence[str]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A failing row for reports. ``row_number`` is the lake's data row number; ``locate``
    (``SourceShape.locate``) adds where a person finds it in the file: ``line`` (the header
    counts), ``where``, and for XLSX ``sheet`` and the ``cells`` of the items that failed."""
    reasons = list(data.get(ERRORS) or [])
    entry: dict[str, Any] = {
        "row_number": data.get(ROW_NUMBER),
        "reasons": reasons,
        "values": masked_row(data, ruleset),
    }
    if locate is not None:
        failed = [i.name for i in ruleset.items if any(r.startswith(i.name) for r in reasons)]
        entry.update(locate(data.get(ROW_NUMBER), failed))
    return entry


def masked_row(row: dict[str, Any], ruleset: RuleSet) -> dict[str, Any]:
    """A failing row as reports may show it: personal items masked (privacy/ maskers)."""
    shown: dict[str, Any] = {}
    for item in ruleset.items:
        value = row.get(item.name)
        text = None if value is None else str(value)
        kind = ruleset.masks.get(item.name)
        shown[item.name] = mask(text, kind) if kind and text is not None else text
    return shown
