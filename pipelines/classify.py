"""Classifying a batch's rows on Arrow data inside Spark tasks, and writing them there.

Why not Spark SQL expressions: measured with ``bench/ingest.py`` (1M rows, 9 columns, 23
rules), the standardisation and rules as Spark expressions cost 12–14 JVM CPU seconds, and
caching the classified frame for the counts and three writes another 15; plain Spark
CSV → Parquet takes about 5. The same rules on Arrow arrays (``pyarrow.compute``, column at a
time) take about one second, and pyarrow writes Parquet faster than Spark's writer. So Spark
reads the source and spreads it over its executors; each task (``mapInArrow``) standardises,
types and checks its rows and writes its own slice of the raw, quarantine and validated files.
Only one small record of counts per task comes back to the driver, which commits the files.

What needs the whole batch follows the task pass: duplicate keys (the first passing
occurrence wins, later ones are quarantined naming it) and stewards' "unique" rules, as one
Spark aggregate over the key columns the tasks wrote (:func:`later_failures`).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from checks.plan import ItemSpec
from checks.rules import KEY_DUPLICATE_REASON, Rule, RuleSet, check_patterns
from checks.standardise import ARROW_TYPES, error_list, item_checks, standardised_text, typed
from infra.settings import Settings
from lake.errors import PipelineError
from pipelines.references import BaseKeys, base_keys

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW_NUMBER = "_row_number"
ERRORS = "_errors"
PASSING = "_passing"
KEY_HASH = "__h"
META = ("_batch_id", "_source_file", ROW_NUMBER, "_received_at")
DATA_DATE = "_data_date"
"""The raw layer's columns beside the data items (quarantine adds ``_errors``)."""
STATS_SCHEMA = "pid long, rows long, clean long, reasons string, sample string, error string"
TIMESTAMP = pa.timestamp("us", tz="UTC")
SAMPLE_ROWS = 20


def duplicate_reason(first: int, where: Callable[[int], str] | None = None) -> str:
    """Names the first occurrence; ``where`` turns its data row number into the place a
    person finds it in the file (「文件第 3 行」: the header counts)."""
    if where is None:
        return f"主键重复，与第 {first} 行重复 (duplicate key)"
    return f"主键重复，与{where(first)}（第 {first} 条数据）重复 (duplicate key)"


@dataclass(frozen=True)
class Classifier:
    """Everything a task needs to judge rows: plain data, pickled once per Spark job."""

    items: tuple[ItemSpec, ...]
    # The run's date, one for the whole job: tasks running past midnight, or in another time
    # zone, must not judge dates differently, nor a re-run on a later day.
    today: date
    ruleset: RuleSet | None = None
    bases: tuple[BaseKeys, ...] = ()

    @classmethod
    def of(
        cls,
        items: Sequence[ItemSpec],
        ruleset: RuleSet | None,
        settings: Settings,
        *,
        today: date,
    ) -> Classifier:
        """Without a rule set only the type and format checks ingestion itself needs."""
        bases = base_keys(settings, ruleset) if ruleset and ruleset.reference_rules else ()
        if ruleset is not None:
            check_patterns(ruleset)
            ruleset = dataclasses.replace(ruleset, today=today)
        return cls(tuple(items), today, ruleset, bases)

    @property
    def batch_rules(self) -> list[Rule]:
        """Rules that need every row of the batch (stewards' "unique")."""
        return self.ruleset.batch_rules if self.ruleset is not None else []

    def load_bases(self) -> dict[str, pa.Array | None]:
        return {b.rule_id: b.load() for b in self.bases}

    def classify(
        self, table: pa.Table, bases: Mapping[str, pa.Array | None]
    ) -> tuple[list[pa.Array], pa.ListArray]:
        """Typed values (one array per item) and each row's reasons (empty list: passes)."""
        today = self.today
        values: dict[str, pa.Array] = {}
        checks: list[tuple[pa.Array, str]] = []
        for item in self.items:
            text = standardised_text(item, table.column(item.name))
            value = typed(item, text)
            values[item.name] = value
            if self.ruleset is not None:
                checks.extend(self.ruleset.item_checks(item, text, value))
            else:
                checks.extend(item_checks(item, text, value, today=today))
        if self.ruleset is not None and self.ruleset.reference_rules:

            def text_of(name: str) -> pa.Array:
                return pc.cast(values[name], pa.string())

            found: dict[str, pa.Array] = {}
            for rule in self.ruleset.reference_rules:
                keys = bases.get(rule.id)
                found[rule.id] = (
                    pa.array(np.ones(table.num_rows, dtype=bool))
                    if keys is None
                    else pc.is_in(text_of(rule.item), value_set=keys)
                )
            checks.extend(self.ruleset.reference_checks(text_of, found))
        return [values[i.name] for i in self.items], error_list(table.num_rows, checks)


@dataclass(frozen=True)
class Outputs:
    """Folders a task writes its slice to; None: that layer is not written this time.

    ``keys`` receives the key and "unique" columns with row numbers, split into sub-folders
    by key hash, for the duplicate-key step (:func:`later_failures`); a scratch folder.
    """

    raw: str | None = None
    quarantine: str | None = None
    validated: str | None = None
    keys: str | None = None


@dataclass(frozen=True)
class BatchTask:
    """The ``mapInArrow`` function of one batch: classify, write, count."""

    classifier: Classifier
    keys: tuple[str, ...]
    outputs: Outputs
    offsets: Mapping[int, int]  # partition id -> rows before it; empty: input has _row_number
    batch_id: str = ""
    source_file: str = ""
    received_at: datetime | None = None
    # The date the data describes (the extract's date or the run's logical date): on a merge,
    # a key's row from the later data date wins whatever order the batches commit in.
    data_date: date | None = None
    sample_rows: int = SAMPLE_ROWS
    buckets: int = 2  # key files are split by key hash, one duplicate check per bucket

    def schemas(self) -> dict[str, pa.Schema]:
        items = self.classifier.items
        meta = [pa.field("_batch_id", pa.string()), pa.field(ROW_NUMBER, pa.int64())]
        raw = pa.schema(
            [
                *(pa.field(i.name, pa.string()) for i in items),
                meta[0],
                pa.field("_source_file", pa.string()),
                meta[1],
                pa.field("_received_at", TIMESTAMP),
            ]
        )
        typed_fields = {i.name: pa.field(i.name, ARROW_TYPES[i.data_type]) for i in items}
        validated = pa.schema(
            [
                *typed_fields.values(),
                *meta,
                pa.field("_ingested_at", TIMESTAMP),
                pa.field(DATA_DATE, pa.date32()),
            ]
        )
        key_names = dict.fromkeys([*self.keys, *(r.item for r in self.classifier.batch_rules)])
        return {
            "raw": raw,
            "quarantine": raw.append(pa.field(ERRORS, pa.list_(pa.string()))),
            "validated": validated,
            "keys": pa.schema(
                [
                    *(typed_fields[k] for k in key_names),
                    pa.field(ROW_NUMBER, pa.int64()),
                    pa.field(PASSING, pa.bool_()),
                    pa.field(KEY_HASH, pa.int64()),
                ]
            ),
        }

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        pid = context.partitionId() if context is not None else 0
        schemas = self.schemas()
        writers: dict[str, pq.ParquetWriter] = {}
        bases = self.classifier.load_bases()
        names = [i.name for i in self.classifier.items]
        rows = clean = 0
        reasons: dict[str, int] = {}
        sample: list[dict[str, Any]] = []

        def write(target: str, table: pa.Table) -> None:
            layer, _, bucket = target.partition("/")
            folder = getattr(self.outputs, layer)
            if folder is None or table.num_rows == 0:
                return
            if target not in writers:
                where = Path(folder) / bucket if bucket else Path(folder)
                where.mkdir(parents=True, exist_ok=True)
                writers[target] = pq.ParquetWriter(
                    where / f"part-{pid:05d}.parquet",
                    schemas[layer],
                    compression="snappy",
                    # Dictionaries pay off for the constant batch columns; for free text
                    # they cost a third of the write time and save little after snappy.
                    use_dictionary=["_batch_id", "_source_file"],
                )
            writers[target].write_table(table)

        try:
            for batch in batches:
                n = batch.num_rows
                if n == 0:
                    continue
                source = pa.Table.from_batches([batch])
                if self.offsets or ROW_NUMBER not in source.column_names:
                    start = self.offsets.get(pid, 0) + rows + 1
                    numbers = pa.array(np.arange(start, start + n, dtype=np.int64))
                else:
                    numbers = pc.cast(source.column(ROW_NUMBER), pa.int64())
                texts = [pc.cast(source.column(name), pa.string()) for name in names]
                values, errors = self.classifier.classify(source.select(names), bases)
                failing = pc.greater(pc.list_value_length(errors), 0)
                passing = pc.invert(failing)
                rows += n
                bad = pc.sum(failing).as_py() or 0
                clean += n - bad
                received = pa.repeat(pa.scalar(self.received_at, TIMESTAMP), n)
                batch_ids = pa.repeat(pa.scalar(self.batch_id, pa.string()), n)
                source_files = pa.repeat(pa.scalar(self.source_file, pa.string()), n)
                raw = pa.Table.from_arrays(
                    [*texts, batch_ids, source_files, numbers, received], schema=schemas["raw"]
                )
                write("raw", raw)
                if bad:
                    rejected = raw.append_column(ERRORS, errors).filter(failing)
                    write("quarantine", rejected)
                    for entry in pc.value_counts(errors.flatten()).to_pylist():
                        reasons[entry["values"]] = reasons.get(entry["values"], 0) + entry["counts"]
                    if len(sample) < self.sample_rows:
                        sample.extend(rejected.slice(0, self.sample_rows - len(sample)).to_pylist())
                typed_values = [
                    pc.cast(value, schemas["validated"].field(name).type)
                    for name, value in zip(names, values, strict=True)
                ]
                data_dates = pa.repeat(pa.scalar(self.data_date, pa.date32()), n)
                accepted = pa.Table.from_arrays(
                    [*typed_values, batch_ids, numbers, received, data_dates],
                    schema=schemas["validated"],
                )
                write("validated", accepted.filter(passing))
                if self.outputs.keys is not None:
                    # "unique" rules judge every row; duplicate keys only passing ones.
                    key_columns = [typed_values[names.index(k)] for k in schemas["keys"].names[:-3]]
                    # Bucket by the key alone: "unique" columns ride along but must not
                    # split rows with the same key into different buckets.
                    key_hash = _key_hash(key_columns[: len(self.keys)], n)
                    keyed = pa.Table.from_arrays(
                        [*key_columns, numbers, passing, key_hash],
                        schema=schemas["keys"],
                    )
                    if not self.classifier.batch_rules:
                        keyed = keyed.filter(passing)
                    hashes = keyed.column(KEY_HASH).to_numpy().view(np.uint64)
                    bucket = hashes % np.uint64(self.buckets)
                    for b in range(self.buckets):
                        write(f"keys/{b:03d}", keyed.filter(pa.array(bucket == b)))
        finally:
            for writer in writers.values():
                writer.close()
        for entry in sample:
            entry.pop("_received_at", None)
        yield stats_row(pid, rows=rows, clean=clean, reasons=reasons, sample=sample)


def stats_row(
    pid: int,
    *,
    rows: int = 0,
    clean: int = 0,
    reasons: Mapping[str, int] | None = None,
    sample: Sequence[Mapping[str, Any]] = (),
    error: str = "",
) -> pa.RecordBatch:
    """A task's one record of :data:`STATS_SCHEMA`, whose columns Spark matches by position."""
    return pa.RecordBatch.from_pylist(
        [
            {
                "pid": pid,
                "rows": rows,
                "clean": clean,
                "reasons": json.dumps(dict(reasons or {}), ensure_ascii=False),
                "sample": json.dumps(list(sample), ensure_ascii=False, default=str),
                "error": error,
            }
        ]
    )


@dataclass
class PassResult:
    """What the task pass found: counts per partition, reasons and a failure sample."""

    rows: int
    clean: int
    reasons: dict[str, int]
    sample: list[dict[str, Any]]
    partition_rows: dict[int, int]

    def accepted(self, later: LaterFailures) -> int:
        """Rows that pass every rule, the whole-batch ones included."""
        return self.clean - len(later.newly_failing)


def _count_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    from pyspark import TaskContext

    context = TaskContext.get()
    rows = sum(batch.num_rows for batch in batches)
    yield pa.RecordBatch.from_pylist(
        [{"pid": context.partitionId() if context else 0, "rows": rows}]
    )


def partition_offsets(frame: DataFrame) -> tuple[dict[int, int], dict[int, int]]:
    """Rows before each partition, so tasks number rows as the file does.

    A scan keeps a file's rows in order within and across partitions; counting each
    partition's rows first is a cheap pass (no column is parsed: 0.4 s per million CSV rows
    here) and lets every task write final row numbers in one go. Frames held in memory
    (no input files) are counted through ``mapInArrow`` like the real pass: Spark folds a
    ``groupBy`` on ``spark_partition_id`` over local data into a single partition.
    """
    from pyspark.sql import functions as F

    if frame.inputFiles():
        stats = frame.groupBy(F.spark_partition_id().alias("pid")).agg(
            F.count(F.lit(1)).alias("rows")
        )
    else:
        stats = frame.select(F.lit(1).alias("_one")).mapInArrow(_count_rows, "pid long, rows long")  # type: ignore[arg-type]
    counts = {int(row["pid"]): int(row["rows"]) for row in stats.collect() if row["rows"]}
    return offsets_of(counts), counts


def offsets_of(counts: Mapping[int, int]) -> dict[int, int]:
    """Rows before each partition, from the rows in each."""
    offsets: dict[int, int] = {}
    running = 0
    for pid in sorted(counts):
        offsets[pid] = running
        running += counts[pid]
    return offsets


def run_pass(
    frame: DataFrame,
    task: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]],
    expected: Mapping[int, int] | None,
    *,
    sample_rows: int = SAMPLE_ROWS,
    tolerate: bool = False,
) -> PassResult | None:
    """Run ``task`` over every partition; refuse if any partition's rows went missing.

    With ``tolerate`` a task's reported problem or a changed count returns None instead (the
    caller discards the outputs and takes the other path).
    """
    stats = frame.mapInArrow(task, STATS_SCHEMA).collect()  # type: ignore[arg-type]
    rows: Any = stats  # Rows read by field name, as the mappings collect_stats takes
    return collect_stats(rows, expected, sample_rows=sample_rows, tolerate=tolerate)


def run_local(
    task: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]],
    batches: Sequence[pa.RecordBatch],
    expected_rows: int,
    *,
    sample_rows: int = SAMPLE_ROWS,
) -> PassResult:
    """The same task over the whole file in this process, as partition 0 (small batches)."""
    stats = pa.Table.from_batches(list(task(iter(batches)))).to_pylist()
    result = collect_stats(stats, {0: expected_rows}, sample_rows=sample_rows)
    assert result is not None
    return result


def collect_stats(
    stats: Sequence[Mapping[str, Any]],
    expected: Mapping[int, int] | None,
    *,
    sample_rows: int = SAMPLE_ROWS,
    tolerate: bool = False,
) -> PassResult | None:
    """One result from the tasks' stats records; refuse if any partition's rows went missing."""
    partition_rows = {int(s["pid"]): int(s["rows"]) for s in stats}
    problems = [f"分区 {s['pid']}: {s['error']}" for s in stats if s["error"]]
    if expected is not None:
        problems += [
            f"分区 {pid} 读到 {partition_rows.get(pid, 0)} 行，预计 {expected.get(pid, 0)} 行 "
            "(partition row count changed between passes)"
            for pid in sorted(set(expected) | set(partition_rows))
            if partition_rows.get(pid, 0) != expected.get(pid, 0)
        ]
    if problems:
        if tolerate:
            return None
        raise PipelineError("；".join(problems))
    reasons: dict[str, int] = {}
    sample: list[dict[str, Any]] = []
    for s in sorted(stats, key=lambda s: s["pid"]):
        for reason, count in json.loads(s["reasons"]).items():
            reasons[reason] = reasons.get(reason, 0) + count
        sample.extend(json.loads(s["sample"]))
    return PassResult(
        rows=sum(partition_rows.values()),
        clean=sum(int(s["clean"]) for s in stats),
        reasons=reasons,
        sample=sample[:sample_rows],
        partition_rows=partition_rows,
    )


@dataclass
class LaterFailures:
    """Rows failed by whole-batch rules: reasons by row number, and which of them had
    already failed a row rule (those are in quarantine already)."""

    reasons: dict[int, list[str]]
    already_failing: set[int]

    @property
    def newly_failing(self) -> dict[int, list[str]]:
        return {rn: r for rn, r in self.reasons.items() if rn not in self.already_failing}


def read_parquet(files: Sequence[str | Path]) -> pa.Table:
    """Parquet parts as one table; a column missing from a part comes back null."""
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def unique_failures(
    table: pa.Table, rules: Sequence[tuple[str, str]], passing: str
) -> LaterFailures:
    """Stewards' "unique" rules ``(item, reason)``: every occurrence of a repeated value."""
    out = LaterFailures({}, set())
    for item, reason in rules:
        present = table.filter(pc.is_valid(table.column(item)))
        grouped = present.group_by(item).aggregate([(ROW_NUMBER, "list"), (passing, "list")])
        for numbers, flags in zip(
            grouped.column(f"{ROW_NUMBER}_list").to_pylist(),
            grouped.column(f"{passing}_list").to_pylist(),
            strict=True,
        ):
            if len(numbers) < 2:
                continue
            for rn, was_passing in zip(numbers, flags, strict=True):
                out.reasons.setdefault(int(rn), []).append(reason)
                if not was_passing:
                    out.already_failing.add(int(rn))
    return out


def later_failures(
    spark: SparkSession | None,
    folder: str | Path,
    keys: Sequence[str],
    batch_rules: Sequence[Rule],
    *,
    where: Callable[[int], str] | None = None,
) -> LaterFailures:
    """Rows that fail once the whole batch is seen, by row number, with reasons.

    ``folder`` holds the key files the tasks wrote (key and "unique" columns, row number,
    ``_passing``, key hash), one sub-folder per hash bucket. A steward's "unique" rule fails
    every occurrence of a repeated value (a Spark aggregate; such rules are rare). Then,
    among the rows still passing, every occurrence of a key after the first fails naming the
    first: one Python task per bucket finds repeated hashes with numpy and compares those
    rows' actual keys. No shuffle (a Spark group-by of a million keys cost 1.3 s here, the
    bucket tasks 0.1 s), and only repeated keys' row numbers reach the driver. Without Spark
    (a small batch, ``pipelines.local``) the same steps run here on pyarrow.
    """
    out = LaterFailures({}, set())
    buckets = sorted(str(p) for p in Path(folder).glob("*") if parquet_files(p))
    if not buckets or (not keys and not batch_rules):
        return out
    if spark is None:
        if batch_rules:
            table = read_parquet([f for b in buckets for f in parquet_files(b)])
            out = unique_failures(table, [(r.item, r.reason) for r in batch_rules], PASSING)
        repeats = (
            [rns for b in buckets for rns in _repeats((b, tuple(keys), frozenset(out.reasons)))]
            if keys
            else []
        )
        for rns in repeats:
            first = min(rns)
            for rn in rns:
                if rn != first:
                    out.reasons.setdefault(rn, []).append(duplicate_reason(first, where))
        return out
    from pyspark.sql import functions as F

    if batch_rules:
        frame = spark.read.parquet(*(f for b in buckets for f in parquet_files(b)))
        for rule in batch_rules:
            repeated = (
                frame.where(F.col(f"`{rule.item}`").isNotNull())
                .groupBy(f"`{rule.item}`")
                .agg(F.collect_list(F.struct(ROW_NUMBER, PASSING)).alias("rows"))
                .where(F.size("rows") > 1)
                .collect()
            )
            for row in repeated:
                for rn, was_passing in row["rows"]:
                    out.reasons.setdefault(int(rn), []).append(rule.reason)
                    if not was_passing:
                        out.already_failing.add(int(rn))
    if keys:
        excluded = frozenset(out.reasons)
        specs = [(b, tuple(keys), excluded) for b in buckets]
        for rns in spark.sparkContext.parallelize(specs, len(specs)).flatMap(_repeats).collect():
            first = min(rns)
            for rn in rns:
                if rn != first:
                    out.reasons.setdefault(rn, []).append(duplicate_reason(first, where))
    return out


_local = threading.local()


def _duckdb() -> Any:
    """One single-threaded DuckDB per thread: Spark runs one task per worker process, and
    in-process batches (``pipelines.local``) may run in several threads at once, which one
    shared connection refuses ("connection is busy")."""
    con = getattr(_local, "duckdb", None)
    if con is None:
        import duckdb

        con = _local.duckdb = duckdb.connect(config={"threads": 1})
    return con


def _key_hash(columns: Sequence[pa.Array], length: int) -> pa.Array:
    """A 64-bit hash of each row's key (DuckDB's, vectorised: 20 ms per million keys)."""
    if not columns:
        return pa.nulls(length, pa.int64())
    table = pa.table({f"k{i}": c for i, c in enumerate(columns)})
    con = _duckdb()
    con.register("keyed", table)
    try:
        hashed = con.sql(f"SELECT hash({', '.join(table.column_names)}) FROM keyed").fetchnumpy()
    finally:
        con.unregister("keyed")
    values = next(iter(hashed.values()))
    return pa.array(np.asarray(values, dtype=np.uint64).view(np.int64))


def _repeats(spec: tuple[str, tuple[str, ...], frozenset[int]]) -> list[list[int]]:
    """Row numbers of every key repeated among one bucket's passing rows (a Spark task)."""
    folder, keys, excluded = spec
    table = pq.read_table(parquet_files(folder))
    table = table.filter(table.column(PASSING))
    if excluded:
        failed = pa.array(sorted(excluded), pa.int64())
        table = table.filter(pc.invert(pc.is_in(table.column(ROW_NUMBER), value_set=failed)))
    hashes = table.column(KEY_HASH).to_numpy()
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    suspects = table.filter(pa.array(counts[inverse] > 1)).select([*keys, ROW_NUMBER])
    groups: dict[tuple[Any, ...], list[int]] = {}
    for row in suspects.to_pylist():
        groups.setdefault(tuple(row[k] for k in keys), []).append(int(row[ROW_NUMBER]))
    return [sorted(rns) for rns in groups.values() if len(rns) > 1]


def all_reasons(result: PassResult, later: LaterFailures) -> dict[str, int]:
    """Failing rows per reason, the task pass's and the whole-batch rules' together, named as
    the summary and the gate name them (duplicate keys without their row numbers)."""
    counts = dict(result.reasons)
    for reasons in later.reasons.values():
        for reason in reasons:
            name = KEY_DUPLICATE_REASON if reason.startswith("主键重复") else reason
            counts[name] = counts.get(name, 0) + 1
    return {reason: count for reason, count in counts.items() if count}


def parquet_files(folder: str | Path | None) -> list[str]:
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(str(p) for p in Path(folder).glob("*.parquet"))
