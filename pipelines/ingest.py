"""One ingest batch: a source file into the raw, quarantine and validated layers.

The job reads the file once with Spark, numbers the rows, standardises and checks every data
item as column expressions, sets aside duplicate keys, and writes three Delta tables through
``pipelines.lake.delta`` (Parquet from the executors, a commit from the driver). Every row read
is either accepted or quarantined with its reasons, and the job refuses to commit if the
counts do not add up. Each commit carries the batch id, so a re-run of the same file finds its
own earlier commits and changes nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from infra.settings import Settings
from pipelines.errors import PipelineError
from pipelines.lake import delta
from pipelines.lake.delta import BATCH_KEY, TableRef
from pipelines.plan import IngestPlan, ItemSpec
from pipelines.sources import SourceShape, file_digest, inspect_source
from pipelines.spark import spark_session
from pipelines.standardise import SPARK_TYPES, error_list, item_checks, standardised_text, typed

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from quality.gate import GateDecision
    from quality.rules import RuleSet

META_COLUMNS = ("_batch_id", "_source_file", "_row_number", "_received_at")


@dataclass
class BatchSummary:
    """What a batch did; ``rows_read == rows_accepted + rows_quarantined`` always."""

    batch_id: str
    resource_code: str
    table: str
    source_file: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    table_version: int | None = None
    raw_version: int | None = None
    quarantine_version: int | None = None
    skipped: bool = False
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    file_sha256: str = ""
    file_bytes: int = 0
    held: bool = False
    hold_reason: str = ""
    pass_rate: float | None = None
    # The gate's verdict, counts per rule and masked failure sample, for the catalogue.
    gate: GateOutcome | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "gate"}


@dataclass
class GateOutcome:
    decision: GateDecision
    counts: dict[str, int]
    sample: list[dict[str, Any]]


def tables(settings: Settings, name: str) -> dict[str, TableRef]:
    root = settings.lake_path
    return {layer: TableRef(root, layer, name) for layer in ("raw", "quarantine", "validated")}


def staging_path(settings: Settings, table: str, batch_id: str) -> Path:
    """Where a held batch's passing rows wait for a steward (outside every table's folder)."""
    return Path(settings.lake_path) / "_staging" / table / batch_id


def batch_id_for(plan: IngestPlan, file_sha256: str) -> str:
    """The same file through the same mount is the same batch, whenever it arrives."""
    return hashlib.sha256(f"{plan.table}|{file_sha256}".encode()).hexdigest()[:32]


# ---- reading ------------------------------------------------------------------------------


def _read(spark: SparkSession, path: Path, shape: SourceShape) -> DataFrame:
    """The file as string columns named after the data items (raw layer: as received)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([StructField(h, StringType(), True) for h in shape.headers])
    if shape.format == "csv":
        frame = (
            spark.read.option("header", True)
            .option("encoding", shape.encoding)
            .option("mode", "PERMISSIVE")
            .option("multiLine", False)
            .option("enforceSchema", True)
            .schema(schema)
            .csv(str(path))
        )
    elif shape.format == "jsonl":
        frame = spark.read.option("encoding", shape.encoding).schema(schema).json(str(path))
    elif shape.format == "parquet":
        frame = spark.read.parquet(str(path))
        frame = frame.select(
            *(F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns)
        ).toDF(*[h for h in shape.headers])
    elif shape.format == "xlsx":
        import pyarrow as pa

        from pipelines.xlsx import read_strings

        table = pa.Table.from_batches(list(read_strings(path, shape.headers)))
        frame = spark.createDataFrame(table)
    else:  # pragma: no cover - detect_format only yields the formats above
        raise PipelineError(f"unsupported format {shape.format}")
    return frame.select(*(F.col(f"`{h}`").alias(shape.mapping[h]) for h in shape.headers))


def _tagged(frame: DataFrame) -> DataFrame:
    """Each row's position in the scan, from which its line in the file follows later.

    Spark's scan keeps a single file's rows in order within and across partitions, so
    ``monotonically_increasing_id`` (partition id in the upper 31 bits, index within the
    partition below) orders rows as the file does. Turning it into a row number needs every
    partition's row count; the job takes those from the frame it caches anyway instead of
    reading the file an extra time.
    """
    from pyspark.sql import functions as F

    return frame.withColumn("_mid", F.monotonically_increasing_id())


def _partition_of(mid: Column) -> Column:
    from pyspark.sql import functions as F

    return F.shiftright(mid, 33)


def _row_number(mid: Column, partition_counts: dict[int, int]) -> Column:
    """File row numbers (1 = first data row) from the per-partition counts."""
    from pyspark.sql import functions as F

    if not partition_counts:
        return F.lit(None).cast("long")
    offsets: dict[int, int] = {}
    running = 0
    for pid in sorted(partition_counts):
        offsets[pid] = running
        running += partition_counts[pid]
    offset_map = F.create_map(
        *[x for pid, off in offsets.items() for x in (F.lit(pid), F.lit(off))]
    )
    pid = _partition_of(mid)
    local_index = mid - F.shiftleft(pid, 33)
    return (F.element_at(offset_map, pid.cast("int")) + local_index + 1).cast("long")


def classify_rows(
    frame: DataFrame,
    items: Sequence[ItemSpec],
    *,
    ruleset: RuleSet | None = None,
    spark: SparkSession | None = None,
    settings: Settings | None = None,
) -> tuple[DataFrame, list[str]]:
    """Raw text, standardised typed values (``__v_<item>``) and ``_errors``, side by side.

    Shared by the ingest job and ``quality.evaluate`` (``govshare quality run``), so a check
    run and a real batch judge rows alike; each adds its own duplicate-key step.

    With a quality rule set (``quality.rules``) every rule of the resource becomes a condition
    here, in the same pass, and references to base libraries are one join each; without one,
    only the type and format checks ingestion itself needs. Each standardised text and typed
    value is its own column, computed once: the checks refer to them many times (an ID
    number's check digit reads 18 characters), and inlined they made Spark redo the
    full-width translation for every reference (10× slower at 1M rows).
    """
    from pyspark.sql import functions as F

    texts = [
        # Parquet sources may carry typed columns; the checks read text.
        standardised_text(item, F.col(f"`{item.name}`").cast("string")).alias(f"__t_{item.name}")
        for item in items
    ]
    staged = frame.select("*", *texts)
    values = [
        typed(item, F.col(f"`__t_{item.name}`"))
        .cast(SPARK_TYPES[item.data_type])
        .alias(f"__v_{item.name}")
        for item in items
    ]
    staged = staged.select("*", *values)
    checks_of = ruleset.item_checks if ruleset is not None else item_checks
    checks = []
    for item in items:
        checks.extend(checks_of(item, F.col(f"`__t_{item.name}`"), F.col(f"`__v_{item.name}`")))
    if ruleset is not None and ruleset.reference_rules:
        from quality.references import with_references

        assert spark is not None and settings is not None

        def text_of(name: str) -> Column:
            return F.col(f"`__v_{name}`").cast("string")

        staged = with_references(staged, ruleset, spark=spark, settings=settings, text_of=text_of)
        checks.extend(ruleset.reference_checks(text_of))
        markers = [rule.marker for rule in ruleset.reference_rules]
    else:
        markers = []
    checked = staged.withColumn("_errors", error_list(checks)).drop(
        *(f"__t_{item.name}" for item in items), *markers
    )
    return checked, list(dict.fromkeys(reason for _, reason in checks))


def _repeated_keys(checked: DataFrame, plan: IngestPlan) -> list[tuple[Any, ...]]:
    """Keys that more than one passing row carries, the first one's position, and how many.

    A narrow aggregate (key, first position, count) over the cached frame. Real extracts
    repeat few keys, so the result comes to the driver and marking the later occurrences is a
    broadcast join; the wide rows are never shuffled (a window over the whole frame cost a
    full shuffle and tripled the job's time).
    """
    from pyspark.sql import functions as F

    if not plan.keys:
        return []
    key_cols = [f"__v_{k}" for k in plan.keys]
    return [
        tuple(row)
        for row in checked.where(F.size("_errors") == 0)
        .groupBy(*key_cols)
        .agg(F.min("_mid").alias("__first_mid"), F.count(F.lit(1)).alias("__n"))
        .where(F.col("__n") > 1)
        .collect()
    ]


def _with_duplicates(
    spark: SparkSession,
    checked: DataFrame,
    repeated: list[tuple[Any, ...]],
    partition_counts: dict[int, int],
    plan: IngestPlan,
) -> DataFrame:
    """Row numbers, and a reason on each later occurrence of a passing key naming the first."""
    from pyspark.sql import functions as F

    numbered = checked.withColumn("_row_number", _row_number(F.col("_mid"), partition_counts))
    if not repeated:
        return numbered.drop("_mid")
    key_cols = [f"__v_{k}" for k in plan.keys]
    key_types = {f.name: f.dataType for f in checked.schema.fields}
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType(
        [StructField(k, key_types[k]) for k in key_cols] + [StructField("__first_mid", LongType())]
    )
    firsts = spark.createDataFrame([row[:-1] for row in repeated], schema).withColumn(
        "__first", _row_number(F.col("__first_mid"), partition_counts)
    )
    joined = numbered.join(F.broadcast(firsts), on=key_cols, how="left")
    duplicate = (
        (F.size("_errors") == 0)
        & F.col("__first_mid").isNotNull()
        & (F.col("__first_mid") < F.col("_mid"))
    )
    reason = F.concat(
        F.lit("主键重复，与第 "), F.col("__first").cast("string"), F.lit(" 行重复 (duplicate key)")
    )
    return joined.withColumn(
        "_errors",
        F.when(duplicate, F.array_append(F.col("_errors"), reason)).otherwise(F.col("_errors")),
    ).drop("__first", "__first_mid", "_mid")


# ---- writing ------------------------------------------------------------------------------


def _write_files(frame: DataFrame, table: TableRef, folder: str) -> list[Path]:
    """Executors write Parquet into the table folder; nothing is visible until the commit."""
    target = table.path / folder
    if target.exists():
        shutil.rmtree(target)  # leftovers of a crashed attempt at this very batch
    table.path.mkdir(parents=True, exist_ok=True)
    frame.write.mode("overwrite").parquet(str(target))
    for junk in list(target.glob(".*.crc")) + list(target.glob("_SUCCESS")):
        junk.unlink()
    files = sorted(target.glob("*.parquet"))
    if not files:
        raise PipelineError(f"Spark 未写出任何文件 (no files written) for {table.qualified}")
    return files


def _commit(
    table: TableRef,
    files: list[Path],
    *,
    mode: str,
    batch_id: str,
    remove: list[str] = (),  # type: ignore[assignment]
) -> int:
    schema = pq.read_schema(files[0])
    return delta.commit(
        table, schema=schema, files=files, mode=mode, remove=remove, metadata={BATCH_KEY: batch_id}
    )


def _validated_frame(frame: DataFrame, plan: IngestPlan) -> DataFrame:
    from pyspark.sql import functions as F

    return frame.where(F.size("_errors") == 0).select(
        *(F.col(f"`__v_{i.name}`").alias(i.name) for i in plan.items),
        "_batch_id",
        "_row_number",
        F.col("_received_at").alias("_ingested_at"),
    )


def _publish_validated(
    spark: SparkSession, accepted: DataFrame, plan: IngestPlan, table: TableRef, batch_id: str
) -> int | None:
    """Merge (upsert on key), append without duplicates, or replace: copy-on-write."""
    existing = delta.live_files(table)
    folder = f"b-{batch_id[:16]}"
    if plan.load == "full" or not existing:
        files = _write_files(accepted, table, folder)
        return _commit(
            table, files, mode="replace", batch_id=batch_id, remove=delta.live_paths(table)
        )
    current = spark.read.parquet(*existing)
    keys = list(plan.keys)
    if plan.load == "append":
        fresh = accepted.join(current.select(*keys).distinct(), on=keys, how="left_anti")
        files = _write_files(fresh, table, folder)
        return _commit(table, files, mode="append", batch_id=batch_id)
    kept = current.join(accepted.select(*keys), on=keys, how="left_anti")
    merged = kept.unionByName(accepted)
    files = _write_files(merged, table, folder)
    return _commit(table, files, mode="replace", batch_id=batch_id, remove=delta.live_paths(table))


def ingest_file(
    settings: Settings,
    plan: IngestPlan,
    path: Path,
    *,
    received_at: datetime,
    ruleset: RuleSet | None = None,
) -> BatchSummary:
    """Run one batch; safe to repeat (a committed batch is found and not written again).

    With a rule set the quality gate decides: at or above the resource's pass-rate threshold
    the passing rows are published; below it nothing is, the passing rows wait in staging
    for a steward (``apply_gate_order`` in ``pipelines.jobs``), and the summary says why.
    Failing rows go to quarantine either way.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    started = time.perf_counter()
    shape = inspect_source(path, plan)
    sha, size = file_digest(path)
    batch_id = batch_id_for(plan, sha)
    refs = tables(settings, plan.table)
    summary = BatchSummary(
        batch_id=batch_id,
        resource_code=plan.resource_code,
        table=plan.table,
        source_file=str(path),
        file_sha256=sha,
        file_bytes=size,
    )
    done = {layer: delta.committed_batch(ref, batch_id) for layer, ref in refs.items()}
    spark = spark_session(settings)
    tagged = _tagged(_read(spark, path, shape)).select(
        *plan.item_names,
        F.lit(batch_id).alias("_batch_id"),
        F.lit(str(path)).alias("_source_file"),
        "_mid",
        F.lit(received_at).cast("timestamp").alias("_received_at"),
    )
    classified, reasons = classify_rows(
        tagged, plan.items, ruleset=ruleset, spark=spark, settings=settings
    )
    # One pass over the file fills the cache; the counts, the duplicate keys and the three
    # writes then read the cache instead of the file.
    checked = classified.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        clean = F.size("_errors") == 0
        stats = (
            checked.groupBy(_partition_of(F.col("_mid")).alias("_pid"))
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.sum(clean.cast("long")).alias("clean"),
                *(
                    F.sum(F.array_contains("_errors", reason).cast("long")).alias(f"r{n}")
                    for n, reason in enumerate(reasons)
                ),
            )
            .collect()
        )
        partition_counts = {int(row["_pid"]): int(row["rows"]) for row in stats}
        repeated = _repeated_keys(checked, plan)
        duplicates = sum(int(row[-1]) - 1 for row in repeated)
        summary.rows_read = sum(partition_counts.values())
        summary.rows_accepted = sum(int(row["clean"] or 0) for row in stats) - duplicates
        summary.rows_quarantined = summary.rows_read - summary.rows_accepted
        counted = {
            reason: sum(int(row[f"r{n}"] or 0) for row in stats) for n, reason in enumerate(reasons)
        }
        if duplicates:
            counted["主键重复 (duplicate key)"] = duplicates
        summary.reasons = {reason: count for reason, count in counted.items() if count}
        frame = _with_duplicates(spark, checked, repeated, partition_counts, plan)
        folder = f"b-{batch_id[:16]}"
        if done["raw"] is None:
            raw = checked.withColumn("_row_number", _row_number(F.col("_mid"), partition_counts))
            files = _write_files(raw_columns(raw, plan), refs["raw"], folder)
            done["raw"] = _commit(refs["raw"], files, mode="append", batch_id=batch_id)
        if done["quarantine"] is None and summary.rows_quarantined:
            rejected = frame.where(F.size("_errors") > 0)
            files = _write_files(
                raw_columns(rejected, plan, with_errors=True), refs["quarantine"], folder
            )
            done["quarantine"] = _commit(
                refs["quarantine"], files, mode="append", batch_id=batch_id
            )
        summary.pass_rate = summary.rows_accepted / summary.rows_read if summary.rows_read else 1.0
        publish = True
        if ruleset is not None:
            summary.gate = _gate(ruleset, summary, frame)
            publish = summary.gate.decision.publish
            summary.held = not publish
            summary.hold_reason = "" if publish else summary.gate.decision.message
        if done["validated"] is None and summary.rows_accepted:
            if publish:
                done["validated"] = _publish_validated(
                    spark, _validated_frame(frame, plan), plan, refs["validated"], batch_id
                )
            else:
                _stage(settings, _validated_frame(frame, plan), plan, batch_id)
    finally:
        checked.unpersist()
    summary.raw_version = done["raw"]
    summary.quarantine_version = done["quarantine"]
    summary.table_version = (
        done["validated"] if done["validated"] is not None else delta.version(refs["validated"])
    )
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _gate(ruleset: RuleSet, summary: BatchSummary, frame: DataFrame) -> GateOutcome:
    """The gate's decision from the counts the job already has, and a masked sample."""
    from pyspark.sql import functions as F

    from quality import gate
    from quality.evaluate import failure_sample

    counts = ruleset.counts_from_reasons(summary.reasons)
    decision = gate.decide(
        rows_read=summary.rows_read,
        rows_failed=summary.rows_quarantined,
        threshold=ruleset.threshold,
        reasons=gate.reasons(ruleset, counts, rows_read=summary.rows_read),
    )
    sample = (
        failure_sample(frame.where(F.size("_errors") > 0), ruleset)
        if summary.rows_quarantined
        else []
    )
    return GateOutcome(decision=decision, counts=counts, sample=sample)


def _stage(settings: Settings, accepted: DataFrame, plan: IngestPlan, batch_id: str) -> Path:
    """A held batch's passing rows as Parquet, invisible to every reader until released."""
    target = staging_path(settings, plan.table, batch_id)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    accepted.write.parquet(str(target))
    return target


def publish_staged(settings: Settings, plan: IngestPlan, batch_id: str) -> int | None:
    """Commit a released batch's staged rows to validated, as if it had passed the gate."""
    target = staging_path(settings, plan.table, batch_id)
    ref = tables(settings, plan.table)["validated"]
    committed = delta.committed_batch(ref, batch_id)
    if committed is not None:
        return committed
    if not target.exists():
        return None  # nothing passed, nothing to publish
    spark = spark_session(settings)
    version = _publish_validated(spark, spark.read.parquet(str(target)), plan, ref, batch_id)
    shutil.rmtree(target, ignore_errors=True)
    return version


def discard_staged(settings: Settings, plan: IngestPlan, batch_id: str) -> None:
    shutil.rmtree(staging_path(settings, plan.table, batch_id), ignore_errors=True)


def raw_columns(frame: DataFrame, plan: IngestPlan, *, with_errors: bool = False) -> DataFrame:
    columns = [*plan.item_names, *META_COLUMNS]
    if with_errors:
        columns.append("_errors")
    return frame.select(*(f"`{c}`" for c in columns))
