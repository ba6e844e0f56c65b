"""Keeping lake tables from growing without bound, inside the time-travel window.

Every merge rewrites its table (copy-on-write), and appends add small files, so a table's
folder keeps every version it ever had: validated ga_population held 301 MB on disk for 67 MB
live after 7 batches. Maintenance, per table: compact many small files into few (append
tables), write a checkpoint (readers stop replaying the whole log), and vacuum the files no
version inside the time-travel window needs.

The window (``GOVSHARE_LAKE_TIME_TRAVEL_HOURS``, default 168 h = 7 days) is what ``govshare
lake read --version`` promises: every version that was current at some moment of the last
window stays readable. Vacuum runs in delta-rs's "lite" mode: it deletes only files the Delta
log removed (tombstones), never files the log does not know, so the Parquet files of an
ingest still being written (committed only at its end) are never touched. The window is at
least an hour, so a job that read a version a moment ago still finds its files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError

from catalog.context import utcnow
from infra.settings import Settings
from lake.delta import TableRef

MAINTENANCE_KEY = "govshare.maintenance"
LAYERS = ("raw", "validated", "quarantine", "themes")


@dataclass
class TableMaintenance:
    """What maintenance did to one table; sizes are of its data files (the log excluded)."""

    table: str
    version: int
    oldest_readable_version: int
    window_hours: float
    files_compacted: int = 0
    files_vacuumed: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    live_bytes: int = 0
    skipped: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def data_bytes(table: TableRef) -> int:
    """Bytes of every data file in the table's folder: what the disk really holds."""
    return sum(
        p.stat().st_size
        for p in table.path.rglob("*")
        if p.is_file() and "_delta_log" not in p.relative_to(table.path).parts
    )


def live_bytes(table: TableRef) -> int:
    """Bytes of the current version's files: what a reader of today needs."""
    actions = DeltaTable(table.uri).get_add_actions(flatten=True)
    return int(sum(actions.column("size_bytes").to_pylist()))  # type: ignore[arg-type]


def versions_in_window(delta: DeltaTable, *, window: timedelta, now: datetime) -> list[int]:
    """Versions current at some moment of ``[now - window, now]``: the current one, and each
    earlier version whose successor was committed inside the window. A version followed only
    by vacuum commits has the same files as the next, so it stays readable with it."""
    current = delta.version()
    history = {int(e["version"]): e for e in delta.history()}
    cutoff = int((now - window).timestamp() * 1000)
    inside = [current]
    for version in sorted((v for v in history if v < current), reverse=True):
        following = history.get(version + 1)
        if following is None:
            break
        same_files = str(following.get("operation", "")).startswith("VACUUM")
        if int(following["timestamp"]) < cutoff and not same_files:
            break
        inside.append(version)
    return sorted(inside)


def window_of(settings: Settings) -> timedelta:
    return timedelta(hours=settings.lake_time_travel_hours)


def oldest_readable_version(
    table: TableRef, *, window: timedelta, now: datetime | None = None
) -> int:
    """The oldest version time travel still promises (older ones may have been vacuumed)."""
    delta = DeltaTable(table.uri)
    return versions_in_window(delta, window=window, now=now or utcnow())[0]


def _commit(step: str) -> CommitProperties:
    return CommitProperties(custom_metadata={MAINTENANCE_KEY: step})


def maintain(
    table: TableRef,
    *,
    window: timedelta,
    compact_min_files: int,
    now: datetime | None = None,
) -> TableMaintenance:
    """Compact (if the table has many small files), checkpoint and vacuum one table.

    ``now`` is for tests that cannot wait a week; production passes nothing. A concurrent
    writer wins: the step that lost is reported as skipped and runs again next time.
    """
    now = now or utcnow()
    report = TableMaintenance(
        table=table.qualified,
        version=-1,
        oldest_readable_version=-1,
        window_hours=window.total_seconds() / 3600,
        bytes_before=data_bytes(table),
    )
    try:
        delta = DeltaTable(table.uri)
        files = delta.get_add_actions(flatten=True).num_rows
        if files >= compact_min_files:
            metrics = delta.optimize.compact(commit_properties=_commit("compact"))
            report.files_compacted = int(metrics.get("numFilesRemoved", 0))
            delta = DeltaTable(table.uri)
        delta.create_checkpoint()
        keep = versions_in_window(delta, window=window, now=now)
        vacuumed = delta.vacuum(
            retention_hours=0,  # the window is applied through keep_versions, to the version
            enforce_retention_duration=False,
            dry_run=False,
            keep_versions=keep,
            commit_properties=_commit("vacuum"),
        )
        report.files_vacuumed = len(vacuumed)
        report.oldest_readable_version = keep[0]
    except (CommitFailedError, DeltaError) as error:
        report.skipped = (
            f"并发写入或日志错误，本表跳过，下次维护再做 (skipped: {type(error).__name__})"
        )
    delta = DeltaTable(table.uri)
    report.version = delta.version()
    report.bytes_after = data_bytes(table)
    report.live_bytes = live_bytes(table)
    return report


def lake_tables(settings: Settings) -> list[TableRef]:
    """Every Delta table of every layer (staging and rejected files are not tables)."""
    root = Path(settings.lake_path)
    found = []
    for layer in LAYERS:
        folder = root / layer
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if not child.name.startswith("_") and (child / "_delta_log").is_dir():
                found.append(TableRef(settings.lake_path, layer, child.name))
    return found


def maintain_lake(
    settings: Settings, *, tables: list[TableRef] | None = None, now: datetime | None = None
) -> list[TableMaintenance]:
    """Maintain ``tables`` (default: all of them) with the deployment's window and limits."""
    return [
        maintain(
            ref,
            window=window_of(settings),
            compact_min_files=settings.lake_compact_min_files,
            now=now,
        )
        for ref in (tables if tables is not None else lake_tables(settings))
    ]
