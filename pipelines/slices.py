"""UTF-8 CSV extracts read by the Spark tasks themselves, one byte range each.

Why: Spark's CSV reader and the hand-over of its rows to the Python tasks as Arrow cost as
much as a whole plain Spark CSV → Parquet job (1.7–2.1 s per million rows here) before any
rule runs. pyarrow's CSV parser reads the same bytes in a fraction of that, inside the task
that then classifies them (``pipelines.classify``). The driver only cuts the file at line
boundaries (one seek and one line read per cut, never the whole file); Spark schedules one
task per range, on a cluster as locally.

Only what this path takes exactly as Spark's reader would comes this way: UTF-8, one row per
line, every row with the header's number of fields. A task that meets anything else (a
quoted line break, a short or long row, a bare carriage return) reports it instead of
guessing, its outputs are discarded and the batch goes through Spark's reader, so a file's
result never depends on the path it took.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines.classify import BatchTask, stats_row

SLICE_BYTES = 64 * 1024 * 1024
COUNT_SCHEMA = "pid long, rows long, error string"


def byte_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """``parts`` ranges after the header line, each starting at the beginning of a line."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        first = len(handle.readline())
        cuts = [first]
        for n in range(1, parts):
            handle.seek(first + (size - first) * n // parts)
            handle.readline()
            cuts.append(max(handle.tell(), cuts[-1]))
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def slice_count(path: Path, parallelism: int) -> int:
    return max(parallelism, math.ceil(path.stat().st_size / SLICE_BYTES))


QUOTE, COMMA, CR, LF, BACKSLASH = 0x22, 0x2C, 0x0D, 0x0A, 0x5C


def _plain_quotes(raw: np.ndarray) -> bool:
    """Every quote opens or closes a field, or is doubled inside one, and none follows a
    backslash: quoting both parsers read alike. A quote elsewhere (``"杭州"科技``, ``"b"  ``,
    ``"a\\"b"``) is read differently by Spark's reader and pyarrow's."""
    quotes = np.flatnonzero(raw == QUOTE)
    if quotes.size == 0:
        return True
    before = np.where(quotes > 0, raw[np.maximum(quotes - 1, 0)], LF)
    after = np.where(quotes + 1 < raw.size, raw[np.minimum(quotes + 1, raw.size - 1)], LF)
    opens = np.isin(before, (COMMA, LF, QUOTE))
    closes = np.isin(after, (COMMA, CR, LF, QUOTE))
    return bool((opens | closes).all() and not (before == BACKSLASH).any())


def count_rows(data: bytes) -> int | None:
    """Lines that hold a row, as pyarrow's reader sees them (empty lines are skipped); None
    if only Spark's reader should take the range: a carriage return ending a line on its own
    (old Mac files) or a quote inside a field."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size == 0:
        return 0
    returns = np.flatnonzero(raw == CR)
    if returns.size and (raw[np.minimum(returns + 1, raw.size - 1)] != LF).any():
        return None
    if not _plain_quotes(raw):
        return None
    newlines = np.flatnonzero(raw == LF)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [raw.size]))
    lengths = ends - starts
    if returns.size:
        filled = lengths > 0
        lengths[filled] -= raw[ends[filled] - 1] == CR
    return int((lengths > 0).sum())


@dataclass(frozen=True)
class CsvSlices:
    """The ``mapInArrow`` function over ``spark.range(n, numPartitions=n)``: partition i reads
    byte range i of the file; without a task it only counts the range's rows."""

    path: str
    ranges: tuple[tuple[int, int], ...]
    columns: tuple[str, ...]  # data item names, in the file's column order
    task: BatchTask | None = None

    @property
    def sample_rows(self) -> int:
        return self.task.sample_rows if self.task is not None else 0

    def _bytes(self, pid: int) -> bytes:
        start, end = self.ranges[pid]
        with open(self.path, "rb") as handle:
            handle.seek(start)
            return handle.read(end - start)

    def _batches(self, data: bytes) -> Iterator[pa.RecordBatch]:
        import pyarrow.csv as pacsv

        reader = pacsv.open_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(
                column_names=list(self.columns), use_threads=False, block_size=16 << 20
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            # As Spark's reader reads them: an empty field, quoted or not, is null.
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in self.columns},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        yield from reader

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        for _ in batches:  # the range id; the partition id says the same
            pass
        context = TaskContext.get()
        pid = context.partitionId() if context is not None else 0
        data = self._bytes(pid)
        if self.task is None:
            rows = count_rows(data)
            if rows is None:
                yield _error(pid, "quoting or line ends Spark's reader should take")
            else:
                yield pa.RecordBatch.from_pylist([{"pid": pid, "rows": rows, "error": ""}])
            return
        try:
            yield from self.task(self._batches(data))
        except pa.ArrowInvalid:
            # pyarrow's message quotes the row; only the kind of problem leaves the task.
            yield _error(pid, "a row pyarrow's parser refused", stats=True)


def _error(pid: int, message: str, *, stats: bool = False) -> pa.RecordBatch:
    if stats:
        return stats_row(pid, error=message)
    return pa.RecordBatch.from_pylist([{"pid": pid, "rows": 0, "error": message}])


def spark_ranges(spark, count: int):  # type: ignore[no-untyped-def]
    """One row, the range id, per partition."""
    return spark.range(0, count, 1, count)


def count_slices(spark, slices: CsvSlices) -> dict[int, int] | None:  # type: ignore[no-untyped-def]
    """Rows per range; None if a range holds what only Spark's reader should take."""
    rows = spark_ranges(spark, len(slices.ranges)).mapInArrow(slices, COUNT_SCHEMA).collect()
    if any(r["error"] for r in rows):
        return None
    return {int(r["pid"]): int(r["rows"]) for r in rows}
