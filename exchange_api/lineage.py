"""A resource's lineage, read from the OpenLineage events the scheduled runs append.

The ingest DAG of a 库表 mount reports its landing files as inputs and the raw, quarantine and
validated tables as outputs (``dags.lineage``); the theme DAG reports the validated tables it
reads and the theme tables it writes. Datasets carry a logical alias (``landing.<file>``,
``validated.<table>``, ``themes.<table>``) in their symlinks facet; only aliases are shown,
never the storage paths behind them. The default file transport is read line by line; a
deployment that sends its events elsewhere (Marquez, DataHub) reads lineage there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class ResourceLineage:
    """Sources → the resource's tables → themes, from completed runs (latest first)."""

    table: str
    sources: list[str] = field(default_factory=list)
    tables: dict[str, str | None] = field(default_factory=dict)  # alias -> latest version
    themes: list[str] = field(default_factory=list)
    last_run_at: datetime | None = None


def _alias(dataset: dict[str, Any]) -> str:
    identifiers = ((dataset.get("facets") or {}).get("symlinks") or {}).get("identifiers") or []
    names = [i.get("name") for i in identifiers if i.get("name")]
    return str(names[0]) if names else str(dataset.get("name", ""))


def _version(dataset: dict[str, Any]) -> str | None:
    version = ((dataset.get("facets") or {}).get("version") or {}).get("datasetVersion")
    return str(version) if version is not None else None


def _time(value: Any) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def completed_runs(path: Path) -> Iterator[dict[str, Any]]:
    """COMPLETE events of the file, oldest first; unreadable lines are skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("eventType") == "COMPLETE":
                yield event


def resource_lineage(path: Path, table: str) -> ResourceLineage:
    """Where ``validated.<table>`` came from and which themes read it."""
    found = ResourceLineage(table=table)
    validated = f"validated.{table}"
    sources: list[str] = []
    themes: list[str] = []
    for event in completed_runs(path):
        inputs = [_alias(d) for d in event.get("inputs") or []]
        outputs = event.get("outputs") or []
        if any(_alias(d) == validated for d in outputs):
            sources = inputs  # the latest run's files
            for d in outputs:
                found.tables[_alias(d)] = _version(d)
            found.last_run_at = _time(event.get("eventTime"))
        elif validated in inputs:
            themes = sorted(
                {*themes, *(a for a in map(_alias, outputs) if a.startswith("themes."))}
            )
    found.sources = sources
    found.themes = themes
    return found
