"""One ingest batch: a source file into the raw, quarantine and validated layers.

Spark counts the rows of each slice of the file; then every task standardises, types and
checks its rows on Arrow data and writes its slice of the three layers as Parquet
(``pipelines.classify``: the rules as Spark expressions cost five times more). A UTF-8 CSV
file's slices are byte ranges each task parses itself (``pipelines.slices``); other files
are read by Spark's readers. Duplicate keys follow from the key files the tasks wrote; the
driver commits the files to the Delta logs (``lake.delta``). Every row read is
either accepted or quarantined with its reasons, and the job refuses to commit if a slice's
rows went missing between passes. Each commit carries the batch id, so a re-run of the same
file finds its own earlier commits and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from checks.plan import IngestPlan
from infra.settings import Settings
from lake import delta
from lake.delta import BATCH_KEY, TableRef
from lake.errors import ConcurrentCommit, PipelineError
from lake.staging import staging_path
from pipelines import local
from pipelines.classify import (
    DATA_DATE,
    META,
    BatchTask,
    Classifier,
    LaterFailures,
    Outputs,
    PassResult,
    all_reasons,
    later_failures,
    offsets_of,
    parquet_files,
    partition_offsets,
    read_parquet,
    run_local,
    run_pass,
)
from pipelines.samples import sample_entry
from pipelines.slices import (
    CsvSlices,
    byte_ranges,
    count_slices,
    slice_count,
    spark_ranges,
)
from pipelines.sources import SourceShape, file_digest, inspect_source, read_frame
from pipelines.spark import spark_session

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from checks.rules import RuleSet

log = logging.getLogger("govshare.ingest")


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
    # The date the batch's data describes; rows of keys whose current row is of a later date
    # are not published (they stay in the raw layer) and are counted here for the provider.
    data_date: date | None = None
    rows_superseded: int = 0
    engine: str = ""  # "local" (in-process, small files) or "spark"
    # No data rows (a header-only file): recorded as 空批次, a warning for the provider.
    empty: bool = False
    warning: str = ""
    pass_rate: float | None = None
    # The passing rows wait in staging (``staging_path``) for the gate and the publish step.
    staged: bool = False
    # For the gate: failing rows per rule id, and a masked sample of failing rows.
    counts: dict[str, int] = field(default_factory=dict)
    sample: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # What the gate decided ("published" or "held"), once it has; set by ``jobs.batch``.
    decision: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v.isoformat() if isinstance(v, date) else v
            for k, v in self.__dict__.items()
            if k != "sample"
        }


def tables(settings: Settings, name: str) -> dict[str, TableRef]:
    root = settings.lake_path
    return {layer: TableRef(root, layer, name) for layer in ("raw", "quarantine", "validated")}


def batch_id_for(plan: IngestPlan, file_sha256: str) -> str:
    """The same file through the same mount is the same batch, whenever it arrives."""
    return hashlib.sha256(f"{plan.table}|{file_sha256}".encode()).hexdigest()[:32]


# ---- reading ------------------------------------------------------------------------------


def _read(
    spark: SparkSession, path: Path, shape: SourceShape, workdir: Path | None = None
) -> DataFrame:
    """The file as string columns named after the data items (raw layer: as received),
    through the mount's mapping (``pipelines.sources.read_frame``, shared by every reader)."""
    return read_frame(spark, path, shape, workdir=workdir)


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


def _csv_pass(
    spark: SparkSession,
    path: Path,
    shape: SourceShape,
    task_for: Callable[[dict[int, int], int], BatchTask],
) -> PassResult | None:
    """The task pass with each task parsing its own byte range of a UTF-8 CSV file
    (``pipelines.slices``); None when the file should go through Spark's reader."""
    if shape.format != "csv" or shape.encoding != "utf-8" or not shape.plain_csv:
        return None
    ranges = tuple(byte_ranges(path, slice_count(path, spark.sparkContext.defaultParallelism)))
    if not ranges:
        return None
    columns = shape.columns  # ignored columns get placeholder names and are never kept
    counts = count_slices(spark, CsvSlices(str(path), ranges, columns))
    if counts is not None:
        slices = CsvSlices(str(path), ranges, columns, task_for(offsets_of(counts), len(ranges)))
        result = run_pass(spark_ranges(spark, len(ranges)), slices, counts, tolerate=True)
        if result is not None:
            return result
    log.info("%s: quoting or rows the byte-range reader does not take; Spark reads it", path.name)
    return None


def _table_files(files: Sequence[str | Path], table: TableRef, folder: str) -> list[Path]:
    """``files`` inside the table's folder. A staged batch's files are linked (or copied)
    in, never moved: staging stays whole until the commit, so a failed commit can be retried."""
    paths = [Path(f) for f in files]
    if all(table.path in p.parents for p in paths):
        return paths
    target = table.path / folder
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    placed = []
    for p in paths:
        try:
            os.link(p, target / p.name)
        except OSError:  # another filesystem
            shutil.copy2(p, target / p.name)
        placed.append(target / p.name)
    return placed


@dataclass(frozen=True)
class Published:
    """A batch's validated commit: the version, and its rows an existing newer row kept out."""

    version: int | None
    superseded: int = 0


COMMIT_ATTEMPTS = 8


def _publish_validated(
    spark: SparkSession | None,
    files: Sequence[str | Path],
    plan: IngestPlan,
    table: TableRef,
    batch_id: str,
) -> Published:
    """Replace, append without duplicates, or merge (upsert on key): copy-on-write.

    Optimistic: each attempt reads one snapshot of the table, writes the new files from it
    and commits on top of exactly that version; if another batch committed meanwhile, the
    attempt is thrown away and redone on the new version. A commit that removed files it had
    not read would lose that batch's rows.
    """
    attempt = 0
    while True:
        attempt += 1
        already = delta.committed_batch(table, batch_id)
        if already is not None:  # an earlier attempt's commit did land
            return Published(already)
        try:
            published = _publish_once(spark, files, plan, delta.snapshot(table), batch_id)
        except ConcurrentCommit:
            if attempt >= COMMIT_ATTEMPTS:
                raise
            log.info("%s: concurrent commit, redoing the merge (attempt %d)", table, attempt)
            time.sleep(random.uniform(0.05, 0.3) * attempt)
            continue
        return published


def _publish_once(
    spark: SparkSession | None,
    files: Sequence[str | Path],
    plan: IngestPlan,
    snap: delta.Snapshot,
    batch_id: str,
) -> Published:
    table = snap.table
    data_date = _data_date_of(files)
    newest = _newest_data_date(table) if snap.version is not None else None
    if plan.load == "full" and newest is not None and data_date is not None and data_date < newest:
        # A late full extract older than the table: publishing it would roll the data back.
        superseded = _count_rows(files)
        _remove_folders_of(files)
        return Published(snap.version, superseded)
    if plan.load == "full" or snap.version is None:
        moved = _table_files(files, table, f"b-{batch_id[:16]}")
        return Published(
            _commit_pinned(table, moved, snap, batch_id=batch_id, remove=list(snap.paths))
        )
    if spark is None:
        table_after, superseded = local.merged(
            read_parquet(snap.files),
            read_parquet(files),
            plan.keys,
            load=plan.load,
            newest=newest,
            data_date=data_date,
        )
        prefix = "a" if plan.load == "append" else "m"
        written = local.write_table(table_after, table.path / f"{prefix}-{batch_id[:16]}")
        version = _commit_pinned(
            table,
            written,
            snap,
            batch_id=batch_id,
            remove=[] if plan.load == "append" else list(snap.paths),
        )
        _remove_folders_of(files)  # read into the new files
        return Published(version, superseded)
    accepted = spark.read.parquet(*(str(f) for f in files))
    current = spark.read.parquet(*snap.files)
    keys = list(plan.keys)
    if plan.load == "append":
        fresh = accepted.join(current.select(*keys).distinct(), on=keys, how="left_anti")
        written = _write_files(fresh, table, f"a-{batch_id[:16]}")
        version = _commit_pinned(table, written, snap, batch_id=batch_id)
        _remove_folders_of(files)  # read into the new files
        return Published(version)
    superseded = 0
    if newest is not None and data_date is not None and newest > data_date:
        # Keys whose current row describes a later date than this batch keep that row; the
        # batch's row for them stays in the raw layer only (history), and the batch says so.
        from pyspark.sql import functions as F

        dated = accepted.select(*keys, F.col(DATA_DATE).alias("__batch_date"))
        newer = (
            current.join(dated, on=keys)
            .where(F.col(DATA_DATE) > F.col("__batch_date"))
            .select(*keys)
            .distinct()
            .cache()
        )
        superseded = newer.count()
        if superseded:
            accepted = accepted.join(newer, on=keys, how="left_anti")
    kept = current.join(accepted.select(*keys), on=keys, how="left_anti")
    merged = kept.unionByName(accepted, allowMissingColumns=True)
    written = _write_files(merged, table, f"m-{batch_id[:16]}")
    version = _commit_pinned(table, written, snap, batch_id=batch_id, remove=list(snap.paths))
    _remove_folders_of(files)  # read into the new files
    return Published(version, superseded)


def _commit_pinned(
    table: TableRef,
    files: list[Path],
    snap: delta.Snapshot,
    *,
    batch_id: str,
    remove: list[str] = (),  # type: ignore[assignment]
) -> int:
    """Commit on top of the snapshot the files were computed from; on a conflict the files
    are removed (they were never visible) and ``ConcurrentCommit`` tells the caller to redo."""
    schema = pq.read_schema(files[0])
    try:
        return delta.commit(
            table,
            schema=schema,
            files=files,
            mode="replace",
            remove=remove,
            metadata={BATCH_KEY: batch_id},
            read_version=snap.version,
        )
    except ConcurrentCommit:
        written = {f.parent for f in files}
        for folder in written:
            if folder.name.startswith(("a-", "m-")):
                shutil.rmtree(folder, ignore_errors=True)
        raise


def _data_date_of(files: Sequence[str | Path]) -> date | None:
    """The batch's data date, from its files' footer statistics (every row carries it)."""
    for f in files:
        meta = pq.read_metadata(f)
        schema = meta.schema.to_arrow_schema()
        if DATA_DATE not in schema.names:
            return None
        index = schema.get_field_index(DATA_DATE)
        for rg in range(meta.num_row_groups):
            stats = meta.row_group(rg).column(index).statistics
            if stats is not None and stats.has_min_max:
                return stats.max  # type: ignore[no-any-return]
    return None


def _newest_data_date(table: TableRef) -> date | None:
    """The latest data date in the table's current files, from the Delta file statistics."""
    from deltalake import DeltaTable

    actions = pa.table(DeltaTable(table.uri).get_add_actions(flatten=True))
    column = f"max.{DATA_DATE}"
    if column not in actions.column_names:
        return None
    values = [v for v in actions.column(column).to_pylist() if v is not None]
    if not values:
        return None
    newest = max(values)
    return newest if isinstance(newest, date) else date.fromisoformat(str(newest)[:10])


def _count_rows(files: Sequence[str | Path]) -> int:
    return sum(pq.read_metadata(f).num_rows for f in files)


def _remove_folders_of(files: Sequence[str | Path]) -> None:
    """Remove the folders uncommitted files were written to, once they are read or moved."""
    for folder in {Path(f).parent for f in files}:
        shutil.rmtree(folder, ignore_errors=True)


def _without_rows(
    spark: SparkSession | None,
    files: list[str],
    failures: dict[int, list[str]],
    table: TableRef,
    folder: str,
) -> list[str]:
    """The passing-row files rewritten without rows that failed once the batch was seen whole."""
    if spark is None:
        kept_files = local.without_rows(files, failures, table.path / folder)
        _remove_folders_of(files)
        return kept_files
    from pyspark.sql import functions as F

    failed = spark.createDataFrame([(rn,) for rn in failures], "_row_number long")
    kept = spark.read.parquet(*files).join(F.broadcast(failed), "_row_number", "left_anti")
    written = _write_files(kept, table, folder)
    _remove_folders_of(files)
    return [str(p) for p in written]


def _quarantine_later(
    spark: SparkSession | None,
    raw_files: list[str],
    failing_files: list[Path],
    later: LaterFailures,
    plan: IngestPlan,
    table: TableRef,
    folder: str,
) -> list[Path]:
    """The batch's quarantine files once the whole-batch rules have spoken.

    Rows they failed that had passed come from the raw files, as received, with their
    reasons. Rows already quarantined by the task pass that a "unique" rule also failed get
    that reason added, so a quarantined row lists every rule it broke (their files are
    rewritten; otherwise the task pass's files stay as written).
    """
    if spark is None:
        names = [*plan.item_names, *META, "_errors"]
        rewrite = any(rn in later.already_failing for rn in later.reasons)
        if not later.newly_failing and not rewrite:
            return failing_files
        requarantined = local.quarantine_later(
            raw_files, failing_files if rewrite else [], later, names, table.path / folder
        )
        if rewrite:
            _remove_folders_of(failing_files)
            return requarantined
        return [*failing_files, *requarantined]
    from pyspark.sql import functions as F

    columns = [f"`{c}`" for c in (*plan.item_names, *META, "_errors")]
    written: list[Path] = []
    newly = later.newly_failing
    if newly:
        failed = spark.createDataFrame(
            list(newly.items()), "_row_number long, _errors array<string>"
        )
        rows = spark.read.parquet(*raw_files).join(F.broadcast(failed), "_row_number")
        written += _write_files(rows.select(*columns), table, folder)
    more = {rn: r for rn, r in later.reasons.items() if rn in later.already_failing}
    if not more or not failing_files:
        return [*failing_files, *written]
    extra = spark.createDataFrame(list(more.items()), "_row_number long, __more array<string>")
    failing = (
        spark.read.parquet(*(str(f) for f in failing_files))
        .join(F.broadcast(extra), "_row_number", "left")
        .withColumn("_errors", F.concat("_errors", F.coalesce("__more", F.array())))
    )
    rewritten = _write_files(failing.select(*columns), table, f"{folder}-all")
    _remove_folders_of(failing_files)
    return [*rewritten, *written]


def _commit_layer(
    table: TableRef, files: list[Path], schema: pa.Schema, *, batch_id: str, folder: str
) -> int:
    """Append a batch's files; a batch without rows still commits (an empty file)."""
    if not files:
        target = table.path / folder
        target.mkdir(parents=True, exist_ok=True)
        empty = target / "part-empty.parquet"
        pq.write_table(schema.empty_table(), empty)
        files = [empty]
    return _commit(table, files, mode="append", batch_id=batch_id)


def ingest_file(
    settings: Settings,
    plan: IngestPlan,
    path: Path,
    *,
    received_at: datetime,
    as_of: date,
    data_date: date | None = None,
    ruleset: RuleSet | None = None,
) -> BatchSummary:
    """Stage one batch; safe to repeat (a committed layer is found and not written again).

    Spark reads the file (or this process, for a small one); each task classifies its rows
    and writes its slice of the raw, quarantine and validated files (``pipelines.classify``);
    duplicate keys follow as one aggregate; the driver commits raw and quarantine. The passing
    rows are left in staging with the counts and masked sample the gate needs: nothing is
    decided or published here. ``jobs.batch`` runs the gate (``checks.gate.decide``) and,
    for a published decision, ``publish_staged``. ``as_of`` is the run's date the date rules
    judge by (the rule set's, when one is given, is replaced by it).
    """
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
        data_date=data_date,
    )
    done = {layer: delta.committed_batch(ref, batch_id) for layer, ref in refs.items()}
    # Small files are classified in this process (``pipelines.local``): no Spark job at all.
    local_input = local.source_batches(path, shape, max_bytes=settings.ingest_local_max_bytes)
    spark = None if local_input is not None else spark_session(settings)
    summary.engine = "local" if spark is None else "spark"
    folder = f"b-{batch_id[:16]}"
    targets = {layer: ref.path / folder for layer, ref in refs.items()}
    scratch = staging_path(settings, plan.table, batch_id + "-keys")
    source_copy = staging_path(settings, plan.table, batch_id + "-source")  # title lines cut

    def discard() -> None:
        """Leftovers of a crashed attempt at this very batch, or of the path not taken."""
        for layer, ref in refs.items():
            if done[layer] is None:
                # b-: the tasks' files; k-: rewritten after duplicate keys; a-/m-: appended
                # or merged validated files. None is referenced before its layer's commit.
                for prefix in ("b", "k", "a", "m"):
                    for suffix in ("", "-all"):
                        folder_name = f"{prefix}-{batch_id[:16]}{suffix}"
                        shutil.rmtree(ref.path / folder_name, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    discard()
    classifier = Classifier.of(plan.items, ruleset, settings, today=as_of)
    outputs = Outputs(
        raw=None if done["raw"] is not None else str(targets["raw"]),
        quarantine=None if done["quarantine"] is not None else str(targets["quarantine"]),
        validated=None if done["validated"] is not None else str(targets["validated"]),
        keys=str(scratch),
    )

    def task_for(offsets: dict[int, int], slices: int) -> BatchTask:
        return BatchTask(
            classifier=classifier,
            keys=plan.keys,
            outputs=outputs,
            offsets=offsets,
            batch_id=batch_id,
            source_file=str(path),
            received_at=received_at,
            data_date=data_date,
            buckets=max(2, slices),
        )

    try:
        result: PassResult | None
        if spark is None:
            assert local_input is not None
            result = run_local(task_for({0: 0}, 1), *local_input)
        else:
            result = _csv_pass(spark, path, shape, task_for)
        if result is None:
            assert spark is not None
            discard()
            frame = _read(spark, path, shape, source_copy).select(
                *(f"`{n}`" for n in plan.item_names)
            )
            offsets, counts = partition_offsets(frame)
            result = run_pass(frame, task_for(offsets, len(counts)), counts)
        assert result is not None
        later = later_failures(spark, scratch, plan.keys, classifier.batch_rules, where=shape.where)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(source_copy, ignore_errors=True)
    failures = later.newly_failing
    candidates = parquet_files(outputs.validated)
    summary.rows_read = result.rows
    summary.rows_accepted = result.accepted(later)
    summary.rows_quarantined = summary.rows_read - summary.rows_accepted
    summary.reasons = all_reasons(result, later)
    quarantined = [Path(f) for f in parquet_files(outputs.quarantine)]
    if failures and outputs.validated is not None:
        candidates = _without_rows(
            spark, candidates, failures, refs["validated"], f"k-{batch_id[:16]}"
        )
    if later.reasons and outputs.quarantine is not None:
        quarantined = _quarantine_later(
            spark,
            parquet_files(targets["raw"]),
            quarantined,
            later,
            plan,
            refs["quarantine"],
            f"k-{batch_id[:16]}",
        )
    schemas = task_for({}, 0).schemas()
    if done["raw"] is None:
        done["raw"] = _commit_layer(
            refs["raw"],
            [Path(f) for f in parquet_files(outputs.raw)],
            schemas["raw"],
            batch_id=batch_id,
            folder=folder,
        )
    if done["quarantine"] is None and summary.rows_quarantined:
        done["quarantine"] = _commit(
            refs["quarantine"], quarantined, mode="append", batch_id=batch_id
        )
    summary.pass_rate = summary.rows_accepted / summary.rows_read if summary.rows_read else 1.0
    if ruleset is not None:
        # What the gate needs, handed over with the staged rows: failing rows per rule, and a
        # masked sample whose rows say where they are in the file (line; XLSX sheet and cells).
        summary.counts = ruleset.counts_from_reasons(summary.reasons)
        summary.sample = [sample_entry(row, ruleset, locate=shape.locate) for row in result.sample]
    if done["validated"] is None:
        if summary.rows_accepted:
            _stage(settings, candidates, plan, batch_id)
            summary.staged = True
        else:
            _remove_folders_of(candidates)  # every row failed a whole-batch rule
            shutil.rmtree(targets["validated"], ignore_errors=True)
    summary.raw_version = done["raw"]
    summary.quarantine_version = done["quarantine"]
    # Set when an earlier attempt at this batch already published it; else at publish time.
    summary.table_version = done["validated"]
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _stage(settings: Settings, files: Sequence[str], plan: IngestPlan, batch_id: str) -> Path:
    """A batch's passing rows, moved where no reader looks until the gate lets them through
    (or a steward releases them): renames on the lake's filesystem, no data copied.

    The staged folder appears whole or not at all (files are gathered next to it, then the
    folder is renamed into place): a publisher never sees half a batch.
    """
    target = staging_path(settings, plan.table, batch_id)
    incoming = staging_path(settings, plan.table, batch_id + "-incoming")
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    for f in files:
        os.replace(f, incoming / Path(f).name)
    _remove_folders_of(files)
    if target.exists():  # an earlier attempt at this very batch staged it already
        previous = staging_path(settings, plan.table, batch_id + "-previous")
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(target, previous)
        shutil.rmtree(previous, ignore_errors=True)
    os.replace(incoming, target)
    return target


def publish_staged(settings: Settings, plan: IngestPlan, batch_id: str) -> Published:
    """Commit a batch's staged rows to validated: passed by the gate or released by a steward.

    Safe to repeat and to race: a batch already committed is found (``delta.committed_batch``)
    and not committed again, and a publisher whose staged files another one consumed finds
    that one's commit.
    """
    target = staging_path(settings, plan.table, batch_id)
    ref = tables(settings, plan.table)["validated"]
    committed = delta.committed_batch(ref, batch_id)
    if committed is not None:
        shutil.rmtree(target, ignore_errors=True)  # a crash after the commit left it behind
        return Published(committed)
    files = parquet_files(target)
    if not files:
        return Published(None)  # nothing passed, nothing to publish
    staged = sum(Path(f).stat().st_size for f in files) + sum(
        Path(f).stat().st_size for f in delta.live_files(ref)
    )
    spark = None if staged <= settings.ingest_local_max_bytes else spark_session(settings)
    try:
        published = _publish_validated(spark, files, plan, ref, batch_id)
    except Exception:
        committed = delta.committed_batch(ref, batch_id)
        if committed is None:
            raise
        return Published(committed)  # another publisher of this batch won the race
    shutil.rmtree(target, ignore_errors=True)
    return published


def discard_staged(settings: Settings, plan: IngestPlan, batch_id: str) -> None:
    shutil.rmtree(staging_path(settings, plan.table, batch_id), ignore_errors=True)
