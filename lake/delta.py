"""Committing Parquet files to Delta tables with delta-rs, without funnelling data.

The Delta Lake Spark jars cannot be had on the embedded path, so Spark executors write plain
Parquet files into the table's folder and the driver commits them: it reads only the Parquet
footers (row counts, min/max/null counts for file skipping) and writes one Delta log entry with
an ``add`` action per file (and ``remove`` actions for files a merge rewrote). Files not yet
committed are invisible to readers, so a crash leaves the table at its previous version.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake import Schema as DeltaSchema
from deltalake.exceptions import CommitFailedError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from lake.errors import ConcurrentCommit, TransientLakeError

BATCH_KEY = "govshare.batch_id"
# Read version a commit was computed from; ``commit`` fails rather than rebase on top of a
# newer version (delta-rs would otherwise let a blind append through).
_NOT_PINNED = -2


@dataclass(frozen=True)
class TableRef:
    """A lake table: its layer, its name and where it lives."""

    root: str
    layer: str
    name: str

    @property
    def uri(self) -> str:
        return f"{self.root.rstrip('/')}/{self.layer}/{self.name}"

    @property
    def path(self) -> Path:
        return Path(self.uri)

    @property
    def qualified(self) -> str:
        return f"{self.layer}.{self.name}"


def exists(table: TableRef) -> bool:
    return DeltaTable.is_deltatable(table.uri)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return value


def file_stats(path: Path) -> tuple[int, str]:
    """Row count and Delta stats JSON from the Parquet footer, so readers can skip files."""
    meta = pq.read_metadata(path)
    mins: dict[str, Any] = {}
    maxs: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    complete: dict[str, bool] = {}
    for rg in range(meta.num_row_groups):
        group = meta.row_group(rg)
        for c in range(group.num_columns):
            column = group.column(c)
            name = column.path_in_schema
            if "." in name:  # nested fields carry no top-level stats
                continue
            stats = column.statistics
            if stats is None:
                complete[name] = False
                continue
            nulls[name] = nulls.get(name, 0) + (stats.null_count or 0)
            if not stats.has_min_max:
                # A group of only nulls has no min/max; it cannot widen the range.
                if stats.null_count != group.num_rows:
                    complete[name] = False
                continue
            low, high = _json_value(stats.min), _json_value(stats.max)
            if low is None or high is None:
                complete[name] = False
                continue
            mins[name] = low if name not in mins else min(mins[name], low)
            maxs[name] = high if name not in maxs else max(maxs[name], high)
    usable = {n for n in mins if complete.get(n, True)}
    payload = {
        "numRecords": meta.num_rows,
        "minValues": {n: v for n, v in mins.items() if n in usable},
        "maxValues": {n: v for n, v in maxs.items() if n in usable},
        "nullCount": nulls,
    }
    return meta.num_rows, json.dumps(payload, ensure_ascii=False)


def partition_values(relative_path: str) -> dict[str, str | None]:
    """Hive-style ``name=value`` folders in a file's path, as Spark's partitionBy writes them."""
    values: dict[str, str | None] = {}
    for part in relative_path.split("/")[:-1]:
        name, sep, value = part.partition("=")
        if sep:
            values[name] = None if value == "__HIVE_DEFAULT_PARTITION__" else value
    return values


def add_actions(table: TableRef, files: Iterable[Path]) -> list[AddAction]:
    """One ``add`` per data file; paths are relative to the table root, as Delta requires."""
    root = table.path.resolve()
    actions = []
    for file in sorted(files):
        resolved = file.resolve()
        _rows, stats = file_stats(resolved)
        info = resolved.stat()
        relative = resolved.relative_to(root).as_posix()
        actions.append(
            AddAction(
                path=relative,
                size=info.st_size,
                partition_values=partition_values(relative),
                modification_time=int(info.st_mtime * 1000),
                data_change=True,
                stats=stats,
            )
        )
    return actions


def _remove_actions(paths: Sequence[str]) -> list[RemoveAction]:
    now = int(time.time() * 1000)
    return [RemoveAction(path=p, data_change=True, deletion_timestamp=now) for p in paths]


@dataclass(frozen=True)
class Snapshot:
    """One version of a table as a writer read it: the base of an optimistic commit.

    A copy-on-write merge reads ``files``, writes their replacement, and commits with
    ``read_version=version`` and ``remove=paths``: if anyone committed in between, the commit
    fails with ``ConcurrentCommit`` and the merge is redone on the newer version, so no batch
    committed meanwhile is removed unread.
    """

    table: TableRef
    version: int | None  # None: the table does not exist yet
    paths: tuple[str, ...] = ()  # relative to the table root, for ``remove``

    @property
    def files(self) -> list[str]:
        """Absolute paths, for Spark to read."""
        return [f"{self.table.uri}/{p}" for p in self.paths]


def snapshot(table: TableRef) -> Snapshot:
    if not exists(table):
        return Snapshot(table, None)
    delta = DeltaTable(table.uri)
    actions = pa.table(delta.get_add_actions(flatten=True))
    return Snapshot(table, delta.version(), tuple(map(str, actions.column("path").to_pylist())))


def commit(
    table: TableRef,
    *,
    schema: pa.Schema,
    files: Sequence[Path],
    mode: str,
    remove: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
    partition_by: Sequence[str] = (),
    read_version: int | None = _NOT_PINNED,
) -> int:
    """Commit ``files`` as one Delta transaction and return the new table version.

    ``mode``: "append" adds files; "overwrite" replaces the whole table; "replace" removes the
    files named in ``remove`` and adds ``files`` (a copy-on-write merge of some files).
    ``read_version``: the version the files were computed from (None: the table did not
    exist). When given, the commit lands only on top of exactly that version; any commit in
    between raises ``ConcurrentCommit``. Without it, delta-rs rebases blind appends.
    """
    adds = add_actions(table, files)
    pinned = read_version != _NOT_PINNED
    properties = CommitProperties(
        custom_metadata=dict(metadata or {}), max_commit_retries=0 if pinned else None
    )
    try:
        if not exists(table):
            if pinned and read_version is not None:
                raise ConcurrentCommit(table.qualified)  # it vanished: never recreate it
            try:
                create_table_with_add_actions(
                    table.uri,
                    DeltaSchema.from_arrow(schema),
                    adds,
                    mode="error",
                    partition_by=list(partition_by) or None,
                    name=table.qualified,
                    commit_properties=properties,
                )
            except Exception as error:  # another writer created it first
                if exists(table):
                    raise ConcurrentCommit(table.qualified) from error
                raise
            return 0
        if pinned and read_version is None:
            raise ConcurrentCommit(table.qualified)  # created by someone else meanwhile
        delta = DeltaTable(table.uri) if not pinned else DeltaTable(table.uri, version=read_version)
        if mode == "overwrite":
            delta.create_write_transaction(
                list[AddAction | RemoveAction](adds),
                mode="overwrite",
                schema=schema,
                commit_properties=properties,  # type: ignore[arg-type]
            )
        else:
            actions: list[AddAction | RemoveAction] = [*adds, *_remove_actions(remove)]
            delta.create_write_transaction(
                actions,
                mode="append",
                schema=schema,
                commit_properties=properties,  # type: ignore[arg-type]
            )
    except CommitFailedError as error:
        if pinned:
            raise ConcurrentCommit(table.qualified) from error
        raise TransientLakeError(
            f"Delta 提交冲突，可安全重试 (concurrent commit on {table.qualified})"
        ) from error
    if pinned:
        return (read_version if read_version is not None else -1) + 1
    return DeltaTable(table.uri).version()


def version(table: TableRef) -> int | None:
    return DeltaTable(table.uri).version() if exists(table) else None


def history(table: TableRef) -> list[dict[str, Any]]:
    """Commits newest first, each with its version, time, operation and our batch id."""
    if not exists(table):
        return []
    return DeltaTable(table.uri).history()


def committed_batch(table: TableRef, batch_id: str) -> int | None:
    """The version that committed ``batch_id``, if any: the lake's own idempotency record."""
    for entry in history(table):
        if entry.get(BATCH_KEY) == batch_id:
            return int(entry["version"])
    return None


def row_count(table: TableRef) -> int:
    """Rows of the current version, from the files' metadata (no data is read)."""
    return int(DeltaTable(table.uri).to_pyarrow_dataset().count_rows())


def batches_since(table: TableRef, version: int) -> list[str]:
    """Batch ids committed after ``version``: what a reader that saw ``version`` has not seen.

    Commit order, not receive time: a batch received early but committed late (held by the
    quality gate, then released; or a slow job) is still new to that reader.
    """
    return [
        str(entry[BATCH_KEY])
        for entry in history(table)
        if int(entry["version"]) > version and entry.get(BATCH_KEY)
    ]


def read(
    table: TableRef, *, version: int | None = None, columns: list[str] | None = None
) -> pa.Table:
    """The table (or an earlier version of it) as Arrow; for small tables and tests."""
    delta = DeltaTable(table.uri, version=version)
    return delta.to_pyarrow_table(columns=columns)


def live_files(table: TableRef) -> list[str]:
    """Absolute paths of the files of the current version, for Spark to read."""
    if not exists(table):
        return []
    return list(DeltaTable(table.uri).file_uris())


def live_paths(table: TableRef) -> list[str]:
    """Paths (relative to the table root) of the current version's files, for ``remove``."""
    if not exists(table):
        return []
    actions = pa.table(DeltaTable(table.uri).get_add_actions(flatten=True))
    return [str(p) for p in actions.column("path").to_pylist()]
