"""Row-level evaluation of a resource's rules, in one pass over the batch.

GE's Spark engine computes one metric job per expectation and, to name failing rows, a second
pass per expectation; at a million rows and twenty expectations that is far slower than the
ingest scan itself. Here the ingest job's own task pass (``pipelines.classify``) judges every
row on Arrow data and counts failures per rule; a check run writes only the passing rows'
keys, for the duplicate-key aggregate, to a scratch folder it removes afterwards. Only the
counts and a small, masked sample of failing rows come back to the driver.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from checks.rules import RuleSet
from infra.settings import Settings
from pipelines.classify import (
    ERRORS,
    ROW_NUMBER,
    SAMPLE_ROWS,
    BatchTask,
    Classifier,
    LaterFailures,
    Outputs,
    PassResult,
    all_reasons,
    later_failures,
    parquet_files,
    partition_offsets,
    run_local,
    run_pass,
)
from pipelines.local import source_batches
from pipelines.samples import sample_entry

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from pipelines.sources import SourceShape

__all__ = [
    "ERRORS",
    "ROW_NUMBER",
    "Evaluation",
    "evaluate",
    "evaluate_small_file",
    "read_source",
    "row_reasons",
]


@dataclass
class Evaluation:
    """What the rules found in one batch; ``rows_read == rows_passed + rows_failed``."""

    rows_read: int
    rows_failed: int
    counts: dict[str, int]  # rule id -> failing rows
    sample: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_passed(self) -> int:
        return self.rows_read - self.rows_failed

    @property
    def pass_rate(self) -> float:
        return 1.0 if self.rows_read == 0 else self.rows_passed / self.rows_read


def value_column(name: str) -> str:
    return f"__v_{name}"


def classified_table(table: pa.Table, ruleset: RuleSet, settings: Settings) -> pa.Table:
    """``table``'s item columns with typed values (``__v_<item>``) and each row's reasons.

    In-process, for small frames (GE's own validation, tests); duplicate keys and "unique"
    rules need the whole batch and are left to :func:`evaluate` and the ingest job.
    """
    classifier = Classifier.of(ruleset.items, ruleset, settings, today=ruleset.today)
    values, errors = classifier.classify(table, classifier.load_bases())
    out = table
    for item, value in zip(ruleset.items, values, strict=True):
        out = out.append_column(value_column(item.name), value)
    return out.append_column(ERRORS, errors)


def _check_pass(
    frame: DataFrame,
    ruleset: RuleSet,
    scratch: Path,
    *,
    spark: SparkSession,
    settings: Settings,
    sample_rows: int,
    keep_failing: bool = False,
    where: Callable[[int], str] | None = None,
) -> tuple[PassResult, LaterFailures]:
    """The ingest job's task pass, publishing nothing: counts and later failures; with
    ``keep_failing`` the failing rows' files too (under ``scratch``, which the caller removes)."""
    from pyspark.sql import functions as F

    columns = [F.col(f"`{i.name}`").cast("string").alias(i.name) for i in ruleset.items]
    if ROW_NUMBER in frame.columns:
        frame = frame.select(*columns, F.col(ROW_NUMBER).cast("long"))
        offsets: dict[int, int] = {}
        expected = None
    else:
        frame = frame.select(*columns)
        offsets, expected = partition_offsets(frame)
    task = _check_task(
        ruleset, settings, scratch, offsets=offsets, sample_rows=sample_rows,
        keep_failing=keep_failing, buckets=max(2, len(expected or {})),
    )  # fmt: skip
    result = run_pass(frame, task, expected)
    assert result is not None  # only a tolerant pass returns None
    return result, _later(spark, task, scratch, where=where)


def _check_task(
    ruleset: RuleSet,
    settings: Settings,
    scratch: Path,
    *,
    offsets: dict[int, int],
    sample_rows: int,
    keep_failing: bool = False,
    buckets: int = 2,
) -> BatchTask:
    """The ingest job's task with nothing published: only the passing rows' keys are written
    (for the duplicate check), and with ``keep_failing`` the failing rows."""
    return BatchTask(
        classifier=Classifier.of(ruleset.items, ruleset, settings, today=ruleset.today),
        keys=ruleset.keys,
        outputs=Outputs(
            keys=str(scratch / "keys"),
            quarantine=str(scratch / "failing") if keep_failing else None,
        ),
        offsets=offsets,
        sample_rows=sample_rows,
        buckets=buckets,
    )


def _later(
    spark: SparkSession | None,
    task: BatchTask,
    scratch: Path,
    *,
    where: Callable[[int], str] | None,
) -> LaterFailures:
    return later_failures(
        spark, scratch / "keys", task.keys, task.classifier.batch_rules, where=where
    )


@contextmanager
def _scratch(settings: Settings) -> Iterator[Path]:
    """A check's own folder for the key files its pass writes, removed whatever happens."""
    scratch = Path(settings.lake_path) / "_staging" / "_checks" / uuid.uuid4().hex
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def row_reasons(
    frame: DataFrame, ruleset: RuleSet, *, spark: SparkSession, settings: Settings
) -> dict[int, list[str]]:
    """Every failing row's reasons by row number, duplicate keys included (small frames)."""
    with _scratch(settings) as scratch:
        _, failures = _check_pass(
            frame, ruleset, scratch, spark=spark, settings=settings, sample_rows=0,
            keep_failing=True,
        )  # fmt: skip
        reasons: dict[int, list[str]] = {}
        files = parquet_files(scratch / "failing")
        if files:
            failing = pq.read_table(files, columns=[ROW_NUMBER, ERRORS]).to_pylist()
            reasons = {row[ROW_NUMBER]: list(row[ERRORS]) for row in failing}
    for rn, extra in failures.reasons.items():
        reasons.setdefault(rn, []).extend(extra)
    return reasons


def evaluate(
    frame: DataFrame,
    ruleset: RuleSet,
    *,
    spark: SparkSession,
    settings: Settings,
    sample_rows: int = SAMPLE_ROWS,
    source: SourceShape | None = None,
) -> Evaluation:
    """Counts and a masked failure sample of ``frame`` under ``ruleset``; publishes nothing.

    With ``source`` (the file's shape) duplicate keys and the sample say where rows are in
    the file, as a person sees it.
    """
    started = time.perf_counter()
    with _scratch(settings) as scratch:
        result, failures = _check_pass(
            frame,
            ruleset,
            scratch,
            spark=spark,
            settings=settings,
            sample_rows=sample_rows,
            where=source.where if source is not None else None,
        )
    return _evaluation(result, failures, ruleset, source, started)


def evaluate_small_file(
    path: Path,
    source: SourceShape,
    ruleset: RuleSet,
    *,
    settings: Settings,
    sample_rows: int = SAMPLE_ROWS,
) -> Evaluation | None:
    """:func:`evaluate` of a file the ingest job would read in this process
    (``pipelines.local``), judged as it would judge it there: a steward's check of a few
    hundred rows starts no JVM. None when Spark's reader must take the file."""
    started = time.perf_counter()
    read = source_batches(path, source, max_bytes=settings.ingest_local_max_bytes)
    if read is None:
        return None
    with _scratch(settings) as scratch:
        task = _check_task(ruleset, settings, scratch, offsets={0: 0}, sample_rows=sample_rows)
        result = run_local(task, *read, sample_rows=sample_rows)
        failures = _later(None, task, scratch, where=source.where)
    return _evaluation(result, failures, ruleset, source, started)


def _evaluation(
    result: PassResult,
    failures: LaterFailures,
    ruleset: RuleSet,
    source: SourceShape | None,
    started: float,
) -> Evaluation:
    return Evaluation(
        rows_read=result.rows,
        rows_failed=result.rows - result.accepted(failures),
        counts=ruleset.counts_from_reasons(all_reasons(result, failures)),
        sample=[
            sample_entry(row, ruleset, locate=source.locate if source is not None else None)
            for row in result.sample
        ],
        seconds=round(time.perf_counter() - started, 3),
    )


def read_source(
    spark: SparkSession, path: Path, *, encoding: str = "utf-8", fmt: str | None = None
) -> DataFrame:
    """A departmental file as text columns, for checking it without ingesting it.

    CSV and JSON lines are decoded strictly first (a GB18030 file declared as UTF-8 is
    refused, never read as mojibake); headers must be the resource's data item names.
    """
    from pyspark.sql import functions as F

    from pipelines.sources import check_encoding, detect_format

    kind = detect_format(path, fmt)
    if kind == "parquet":
        frame = spark.read.parquet(str(path))
    else:
        checked = check_encoding(path, encoding)
        reader = spark.read.option("encoding", checked)
        if kind == "jsonl":
            frame = reader.json(str(path))
        else:
            frame = reader.option("header", True).option("escape", '"').csv(str(path))
    return frame.select(*(F.col(f"`{c}`").cast("string").alias(c.strip()) for c in frame.columns))
