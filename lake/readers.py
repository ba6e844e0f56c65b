"""Reading the lake for data calls: Delta tables through delta-rs and Arrow, never Spark.

The only module of the exchange that touches the lake. For every table it keeps a snapshot of
the current Delta version (files, their Parquet footers, the bucket count the theme builder
recorded) and re-checks the version at most every ``refresh_seconds``; a new version simply
replaces the snapshot, so requests in flight finish on the files they started with.

A key lookup computes the key's bucket, takes that bucket's file, finds the row group whose
footer min/max bracket the key (the builder sorts each bucket by key) and reads that row group
alone, only the requested columns. Its cost does not grow with the table.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from deltalake import DeltaTable

from catalog.safeguards import table_name_problem
from lake.bucketing import BUCKET, BUCKETS_KEY, bucket_of
from lake.delta import TableRef
from lake.errors import DataUnavailable, MountRefused
from privacy.detect import identifier_kind_of
from privacy.masking import MaskKind

SERVED_LAYERS = ("validated", "themes")  # written by pipelines.themes.build into each commit


@dataclass(frozen=True)
class KeyIndex:
    """Per row group of one file: the smallest and largest key (None: no statistics)."""

    lows: list[Any]
    highs: list[Any]
    ordered: bool  # row groups are sorted and disjoint: bisect instead of a scan

    def groups_for(self, key: Any) -> list[int]:
        if self.ordered:
            at = bisect.bisect_right(self.lows, key) - 1
            return [at] if at >= 0 and key <= self.highs[at] else []
        return [
            i
            for i, (low, high) in enumerate(zip(self.lows, self.highs, strict=True))
            if low is None or high is None or low <= key <= high
        ]


@dataclass
class DataFile:
    path: str
    metadata: pq.FileMetaData
    bucket: int | None
    position: int
    _indexes: dict[str, KeyIndex | None] = field(default_factory=dict)
    columns: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.columns = frozenset(self.metadata.schema.to_arrow_schema().names)

    def key_index(self, column: str) -> KeyIndex | None:
        """Footer statistics of ``column`` (cached); None when the file lacks the column."""
        if column not in self._indexes:
            self._indexes[column] = _key_index(self.metadata, column)
        return self._indexes[column]


def _key_index(metadata: pq.FileMetaData, column: str) -> KeyIndex | None:
    names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    if column not in names:
        return None
    position = names.index(column)
    lows: list[Any] = []
    highs: list[Any] = []
    for rg in range(metadata.num_row_groups):
        stats = metadata.row_group(rg).column(position).statistics
        has = stats is not None and stats.has_min_max
        lows.append(stats.min if has else None)
        highs.append(stats.max if has else None)
    ordered = all(v is not None for v in lows + highs) and all(
        highs[i] < lows[i + 1] for i in range(len(lows) - 1)
    )
    return KeyIndex(lows=lows, highs=highs, ordered=ordered)


@dataclass
class Snapshot:
    """One version of one table, as the server reads it."""

    ref: TableRef
    version: int
    schema: pa.Schema
    buckets: int | None
    files: list[DataFile]
    delta: DeltaTable
    checked_at: float
    _by_bucket: dict[int | None, list[DataFile]] = field(default_factory=dict)
    _dataset: ds.Dataset | None = None
    _identifiers: dict[str, MaskKind] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        grouped: dict[int | None, list[DataFile]] = defaultdict(list)
        for f in self.files:
            grouped[f.bucket].append(f)
        self._by_bucket = dict(grouped)

    def candidates(self, key: str) -> list[DataFile]:
        """Files that may hold ``key``: its bucket's, or all when buckets are unknown."""
        if self.buckets is None or any(f.bucket is None for f in self.files):
            return self.files
        return self._by_bucket.get(bucket_of(key, self.buckets), [])

    def dataset(self) -> ds.Dataset:
        """The whole version as a pyarrow dataset (for DuckDB scans and extracts)."""
        with self._lock:
            if self._dataset is None:
                self._dataset = self.delta.to_pyarrow_dataset()
            return self._dataset

    def identifier_columns(self) -> dict[str, MaskKind]:
        """Text columns whose first rows are personal identifiers, and how to mask them.

        Computed once per version from at most ``SAMPLE_ROWS`` rows of the first file, so a
        column the catalogue calls non-personal but that holds ID numbers or mobile numbers is
        still masked when served.
        """
        with self._lock:
            if self._identifiers is None:
                self._identifiers = _sample_identifiers(self.files, self.schema)
            return self._identifiers

    def fact(self, name: str, compute: Callable[[], Any]) -> Any:
        """A fact about this version's data, computed on first use and kept with the version.

        A version never changes, so what a scan learned about it (say, at most one row per
        person) holds until the table moves; two first callers may both compute it, which
        is harmless and keeps lookups from waiting behind a scan.
        """
        if name not in self._facts:
            self._facts[name] = compute()
        return self._facts[name]

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def local_paths(self) -> list[str] | None:
        """The version's live files as local paths, or None for a remote lake."""
        if "://" in self.ref.uri and not self.ref.uri.startswith("file://"):
            return None
        return [f.path.removeprefix("file://") for f in self.files]


SAMPLE_ROWS = 200


def _sample_identifiers(files: list[DataFile], schema: pa.Schema) -> dict[str, MaskKind]:
    text = [
        f.name
        for f in schema
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        and not f.name.startswith("_")
    ]
    if not files or not text:
        return {}
    data_file = files[0]
    present = [c for c in text if c in data_file.columns]
    reader = pq.ParquetFile(data_file.path, metadata=data_file.metadata)
    batch = next(reader.iter_batches(batch_size=SAMPLE_ROWS, columns=present), None)
    if batch is None:
        return {}
    found = {}
    for name in present:
        kind = identifier_kind_of(batch.column(name).to_pylist())
        if kind is not None:
            found[name] = kind
    return found


def _bucket_count(delta: DeltaTable) -> int | None:
    for entry in delta.history():
        value = entry.get(BUCKETS_KEY)
        if value:
            return int(value)
    return None


def _load(ref: TableRef) -> Snapshot:
    if not DeltaTable.is_deltatable(ref.uri):
        raise DataUnavailable(
            f"{ref.qualified} 数据尚未生成，请稍后再试 (the table has not been built yet)"
        )
    delta = DeltaTable(ref.uri)
    actions = pa.table(delta.get_add_actions(flatten=True))
    paths = actions.column("path").to_pylist()
    bucket_column = f"partition.{BUCKET}"
    buckets_of = (
        actions.column(bucket_column).to_pylist()
        if bucket_column in actions.column_names
        else [None] * len(paths)
    )
    root = ref.uri.rstrip("/")
    files = []
    for position, (relative, bucket) in enumerate(zip(paths, buckets_of, strict=True)):
        path = f"{root}/{relative}"
        files.append(
            DataFile(
                path=path,
                metadata=pq.read_metadata(path),
                bucket=int(bucket) if bucket is not None else None,
                position=position,
            )
        )
    schema = pa.schema(delta.schema().to_arrow())  # type: ignore[arg-type]
    return Snapshot(
        ref=ref,
        version=delta.version(),
        schema=schema,
        buckets=_bucket_count(delta) if BUCKET in schema.names else None,
        files=files,
        delta=delta,
        checked_at=time.monotonic(),
    )


class LakeReader:
    """Snapshots of the tables the exchange serves, refreshed when their version moves."""

    def __init__(self, *, refresh_seconds: float = 1.0) -> None:
        self.refresh_seconds = refresh_seconds
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def snapshot(self, ref: TableRef) -> Snapshot:
        if ref.layer not in SERVED_LAYERS or table_name_problem(ref.name):
            # Resource views refuse such mounts already; the reader never opens a path either.
            raise MountRefused("挂接目标不合规，拒绝读取 (not a table of a served layer)")
        current = self._snapshots.get(ref.uri)
        now = time.monotonic()
        if current is not None and now - current.checked_at < self.refresh_seconds:
            return current
        with self._lock:
            current = self._snapshots.get(ref.uri)
            if current is not None and time.monotonic() - current.checked_at < self.refresh_seconds:
                return current
            if current is not None:
                latest = DeltaTable(ref.uri, without_files=True).version()
                if latest == current.version:
                    current.checked_at = time.monotonic()
                    return current
            fresh = _load(ref)
            self._snapshots[ref.uri] = fresh
            return fresh

    def lookup(
        self, ref: TableRef, *, key_column: str, keys: Sequence[str], columns: Iterable[str]
    ) -> tuple[int, dict[str, dict[str, Any]]]:
        """Rows whose ``key_column`` equals one of ``keys``: (table version, key -> row)."""
        snap = self.snapshot(ref)
        wanted = [key_column, *(c for c in columns if c != key_column)]
        plan: dict[tuple[int, int], list[str]] = defaultdict(list)
        for key in dict.fromkeys(keys):
            for data_file in snap.candidates(key):
                index = data_file.key_index(key_column)
                if index is None:
                    continue
                for rg in index.groups_for(key):
                    plan[(data_file.position, rg)].append(key)
        found: dict[str, dict[str, Any]] = {}
        for (position, rg), group_keys in plan.items():
            data_file = snap.files[position]
            present = [c for c in wanted if c in data_file.columns]
            reader = pq.ParquetFile(data_file.path, metadata=data_file.metadata)
            table = reader.read_row_group(rg, columns=present)
            if len(group_keys) == 1:
                hit = pc.equal(table.column(key_column), pa.scalar(group_keys[0]))
            else:
                hit = pc.is_in(table.column(key_column), value_set=pa.array(group_keys))
            for row in table.filter(hit).to_pylist():
                found[row[key_column]] = row
        return snap.version, found
