"""Building 一企一档 and 一人一档 from the validated layer, incrementally.

Each field comes from its authoritative source only (一数一源); other sources holding the same
field are compared with it and every disagreement is written to the theme's conflicts table.
Rows carry ``_provenance``: per field, the source resource and the as-of time of the value.

Theme tables are split into key-hash buckets (a Delta partition column). A rebuild finds the
keys whose source rows arrived since the last build (the watermark kept in the theme's own
commit metadata) and rewrites only the buckets that hold them; other buckets keep their
files. Every build is a Delta version, so any earlier state can be read back.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from infra.settings import Settings
from lake import delta
from lake.bucketing import BUCKET, BUCKETS_KEY
from lake.delta import BATCH_KEY, TableRef
from lake.errors import ConcurrentCommit
from pipelines.spark import spark_session
from pipelines.themes.derive import FIELD_RULES, RULES, RuleInput
from pipelines.themes.spec import SourceSpec, ThemeSpec

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

SOURCES_KEY = "govshare.sources"
# The conflicts table version written by the same build: the two tables cannot be committed
# in one Delta transaction, so conflicts commit first and the theme commit names them; a
# reader pairs a theme version with exactly its build's conflicts.
CONFLICTS_KEY = "govshare.conflicts_version"
BUILD_ATTEMPTS = 5
# Small row groups (256 KiB before compression, about a thousand theme rows): the exchange
# API finds a key's row group from the footer's min/max and decodes only that one, so a
# lookup's cost does not grow with the table (1k rows: ~1 ms; 4k rows: ~2-3 ms with the
# _provenance map column).
ROW_GROUP_BYTES = 1 << 18


@dataclass
class ThemeSummary:
    theme: str
    table: str
    version: int | None = None
    conflicts_version: int | None = None
    rows: int = 0
    keys_rewritten: int = 0
    buckets_rewritten: int = 0
    conflicts: int = 0
    full: bool = False
    skipped: bool = False
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def theme_tables(settings: Settings, spec: ThemeSpec) -> tuple[TableRef, TableRef]:
    root = settings.lake_path
    return TableRef(root, "themes", spec.table), TableRef(root, "themes", f"{spec.table}_conflicts")


def source_links(spec: ThemeSpec) -> dict[str, list[str]]:
    """Every validated table the theme reads, with the columns that name the theme key."""
    found: dict[str, list[str]] = {spec.base.table: [spec.base.link]}

    def add(table: str, columns: tuple[str, ...] | list[str]) -> None:
        found.setdefault(table, [])
        found[table].extend(c for c in columns if c not in found[table])

    for f in spec.fields:
        for s in ([f.authoritative] if f.authoritative else []) + list(f.others):
            add(s.table, [s.link])
    for d in spec.derived:
        for _code, table in d.sources:
            add(table, d.links)
    return found


def _bucket(key: Column, buckets: int) -> Column:
    from pyspark.sql import functions as F

    return F.pmod(F.xxhash64(key), F.lit(buckets)).cast("int")


def _restrict(
    frame: DataFrame, columns: list[str] | tuple[str, ...], keys: DataFrame | None
) -> DataFrame:
    """Only rows naming one of ``keys`` in any of ``columns`` (every row when keys is None)."""
    from pyspark.sql import functions as F

    if keys is None:
        return frame
    parts = [
        frame.join(F.broadcast(keys.withColumnRenamed("__key", c)), on=c, how="left_semi")
        for c in columns
    ]
    result = parts[0]
    for other in parts[1:]:
        result = result.unionByName(other)
    return result.distinct() if len(parts) > 1 else result


def _latest(frame: DataFrame, source: SourceSpec) -> DataFrame:
    """One row per theme key: the newest by the source's other key items, then by arrival."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = [F.col(f"`{c}`").desc_nulls_last() for c in source.order_by]
    order.append(F.col("_ingested_at").desc())
    window = Window.partitionBy(F.col(f"`{source.link}`")).orderBy(*order)
    return (
        frame.where(F.col(f"`{source.link}`").isNotNull())
        .withColumn("__n", F.row_number().over(window))
        .where(F.col("__n") == 1)
        .withColumnRenamed(source.link, "__key")
    )


def _provenance(source_code: str, as_of: Column, present: Column) -> Column:
    from pyspark.sql import functions as F

    return F.when(present, F.struct(F.lit(source_code).alias("source"), as_of.alias("as_of")))


def theme_rows(
    spec: ThemeSpec,
    frames: dict[str, DataFrame],
    keys: DataFrame | None,
    today: date,
    buckets: int,
) -> DataFrame:
    """The theme records for ``keys`` (all keys when None), one per key of the base source."""
    from pyspark.sql import functions as F

    population = (
        _restrict(frames[spec.base.table], [spec.base.link], keys)
        .select(F.col(f"`{spec.base.link}`").alias("__key"))
        .where(F.col("__key").isNotNull())
        .distinct()
    )
    provenance: list[tuple[str, Column]] = []
    by_source: dict[SourceSpec, list[str]] = {}
    for f in spec.fields:
        if f.authoritative is not None and f.authoritative.table in frames:
            by_source.setdefault(f.authoritative, []).append(f.field)
    out = population
    for n, (source, fields) in enumerate(sorted(by_source.items(), key=lambda kv: kv[0].table)):
        latest = _latest(_restrict(frames[source.table], [source.link], keys), source)
        as_of = f"__as_of_{n}"
        out = out.join(
            latest.select(
                "__key", *(F.col(f"`{c}`") for c in fields), F.col("_ingested_at").alias(as_of)
            ),
            on="__key",
            how="left",
        )
        provenance.extend(
            (c, _provenance(source.resource_code, F.col(as_of), F.col(f"`{c}`").isNotNull()))
            for c in fields
        )
    for f in spec.fields:
        if f.authoritative is None or f.authoritative.table not in frames:
            out = out.withColumn(f.field, F.lit(None).cast("string"))
    for n, d in enumerate(spec.derived):
        if d.rule in FIELD_RULES:
            # Alive unless the authoritative death record says otherwise.
            death_field = str(d.params.get("death_field", ""))
            death = next((f for f in spec.fields if f.field == death_field), None)
            out = out.withColumn(d.field, F.col(f"`{death_field}`").isNull())
            if death is not None and death.authoritative is not None:
                stamp = next((a for name, a in provenance if name == death_field), None)
                unknown = F.struct(
                    F.lit(death.authoritative.resource_code).alias("source"),
                    F.lit(None).cast("timestamp").alias("as_of"),
                )
                provenance.append(
                    (d.field, unknown if stamp is None else F.coalesce(stamp, unknown))
                )
            continue
        inputs = {
            table: _restrict(frames[table], d.links, keys)
            for _code, table in d.sources
            if table in frames
        }
        given = RuleInput(key=spec.key, links=d.links, today=today, params=d.params)
        derived = RULES[d.rule](inputs, given) if inputs else None
        if derived is None:
            out = out.withColumn(d.field, F.lit(None).cast("string"))
            continue
        as_of = f"__d_as_of_{n}"
        out = out.join(
            derived.select("__key", F.col("__value").alias(d.field), F.col("__as_of").alias(as_of)),
            on="__key",
            how="left",
        )
        if d.rule.startswith("count"):
            out = out.withColumn(d.field, F.coalesce(F.col(d.field), F.lit(0).cast("bigint")))
        provenance.append(
            (d.field, _provenance(d.sources[0][0], F.col(as_of), F.col(as_of).isNotNull()))
        )
    entries = F.array_compact(
        F.array(*(F.when(col.isNotNull(), F.struct(F.lit(name), col)) for name, col in provenance))
    )
    fields = [i for i in spec.field_order if i != spec.key]
    return out.select(
        F.col("__key").alias(spec.key),
        *(F.col(f"`{n}`") for n in fields),
        F.map_from_entries(entries).alias("_provenance"),
        F.current_timestamp().alias("_built_at"),
        _bucket(F.col("__key"), buckets).alias(BUCKET),
    )


def conflict_rows(
    spec: ThemeSpec, frames: dict[str, DataFrame], keys: DataFrame | None, buckets: int
) -> DataFrame | None:
    """Where another source disagrees with the authoritative one, field by field.

    One join per pair of sources (authoritative, other), whatever the number of fields they
    share: each field compared per row after the join. A join per field read and windowed
    both sources once per field, which made the conflicts a quarter of a theme build.
    """
    from pyspark.sql import functions as F

    pairs: dict[tuple[SourceSpec, SourceSpec], list[str]] = {}
    for f in spec.fields:
        source = f.authoritative
        if source is None or source.table not in frames:
            continue
        for other in f.others:
            if other.table in frames:
                pairs.setdefault((source, other), []).append(f.field)
    parts: list[DataFrame] = []
    for (source, other), fields in pairs.items():
        names = {name: f"__f{n}" for n, name in enumerate(fields)}
        truth = _latest(_restrict(frames[source.table], [source.link], keys), source).select(
            "__key",
            *(F.col(f"`{name}`").cast("string").alias(f"t{a}") for name, a in names.items()),
        )
        claim = _latest(_restrict(frames[other.table], [other.link], keys), other).select(
            "__key",
            F.col("_ingested_at").alias("__claim_as_of"),
            *(F.col(f"`{name}`").cast("string").alias(f"c{a}") for name, a in names.items()),
        )
        compared = F.explode(
            F.array(
                *(
                    F.struct(
                        F.lit(name).alias("field"),
                        F.col(f"t{a}").alias("truth"),
                        F.col(f"c{a}").alias("claim"),
                    )
                    for name, a in names.items()
                )
            )
        ).alias("__cmp")
        parts.append(
            truth.join(claim, on="__key")
            .select("__key", "__claim_as_of", compared)
            .where(
                F.col("__cmp.truth").isNotNull()
                & F.col("__cmp.claim").isNotNull()
                & (F.col("__cmp.truth") != F.col("__cmp.claim"))
            )
            .select(
                F.col("__key").alias(spec.key),
                F.col("__cmp.field").alias("field"),
                F.lit(source.resource_code).alias("authoritative_source"),
                F.col("__cmp.truth").alias("authoritative_value"),
                F.lit(other.resource_code).alias("other_source"),
                F.col("__cmp.claim").alias("other_value"),
                F.col("__claim_as_of").alias("other_as_of"),
                F.current_timestamp().alias("detected_at"),
                _bucket(F.col("__key"), buckets).alias(BUCKET),
            )
        )
    if not parts:
        return None
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result


# ---- writing ------------------------------------------------------------------------------


def _write_partitioned(frame: DataFrame, table: TableRef, folder: str) -> list[Path]:
    """One file per bucket, rows sorted by key, so footer statistics locate a key's row group."""
    target = table.path / folder
    if target.exists():
        shutil.rmtree(target)
    table.path.mkdir(parents=True, exist_ok=True)
    frame.repartition(BUCKET).sortWithinPartitions(frame.columns[0]).write.option(
        "parquet.block.size", ROW_GROUP_BYTES
    ).partitionBy(BUCKET).parquet(str(target))
    for junk in [*target.rglob(".*.crc"), *target.glob("_SUCCESS")]:
        junk.unlink()
    return sorted(target.rglob("*.parquet"))


def _bucket_of(path: str) -> int | None:
    value = delta.partition_values(path).get(BUCKET)
    return int(value) if value is not None else None


def _replace_buckets(
    spark: SparkSession,
    snap: delta.Snapshot,
    fresh: DataFrame,
    *,
    key: str,
    changed: DataFrame | None,
    buckets_touched: set[int] | None,
    buckets: int,
    metadata: dict[str, str],
    folder: str,
) -> tuple[int | None, int]:
    """Rewrite the buckets that hold changed keys (all buckets on a full build), on top of
    exactly the snapshot the build read (``ConcurrentCommit`` if another build got there)."""
    from pyspark.sql import functions as F

    table = snap.table
    current = list(snap.paths)
    content = fresh
    if buckets_touched is None:
        removed = current
    else:
        removed = [p for p in current if _bucket_of(p) in buckets_touched]
        if removed:
            kept = spark.read.parquet(*(str(table.path / p) for p in removed))
            if changed is not None:
                kept = kept.join(changed.withColumnRenamed("__key", key), on=key, how="left_anti")
            # Partition columns are not stored in the files: recompute the bucket.
            kept = kept.withColumn(BUCKET, _bucket(F.col(f"`{key}`"), buckets))
            content = kept.unionByName(fresh)
    files = _write_partitioned(content, table, folder)
    if not files:
        return snap.version, 0
    schema = _schema_with_bucket(files[0])
    try:
        version = delta.commit(
            table,
            schema=schema,
            files=files,
            mode="append",
            remove=removed,
            metadata=metadata,
            partition_by=[BUCKET],
            read_version=snap.version,
        )
    except ConcurrentCommit:
        shutil.rmtree(table.path / folder, ignore_errors=True)  # never visible
        raise
    return version, len({_bucket_of(str(f.relative_to(table.path))) for f in files})


def _schema_with_bucket(file: Path):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    schema = pq.read_schema(file)
    if BUCKET in schema.names:
        return schema
    return schema.append(pa.field(BUCKET, pa.int32()))


def _previous(table: TableRef) -> dict[str, int]:
    """The source versions the last build read (empty before the first build)."""
    for entry in delta.history(table):
        if SOURCES_KEY in entry:
            return {t: int(v) for t, v in json.loads(entry[SOURCES_KEY]).items()}
    return {}


def _new_rows(frame: DataFrame, ref: TableRef, seen: int | None) -> DataFrame | None:
    """Rows committed after the version the last build read; None when there are none."""
    from pyspark.sql import functions as F

    if seen is None:
        return frame  # a source the last build did not have: every row is new to the theme
    fresh = delta.batches_since(ref, seen)
    return frame.where(F.col("_batch_id").isin(fresh)) if fresh else None


def build_theme(
    settings: Settings, spec: ThemeSpec, *, today: date, full: bool = False, buckets: int = 16
) -> ThemeSummary:
    """Build or refresh one theme; a refresh with no new source data writes nothing.

    Two builds of one theme at once (two schedulers, a CLI run beside a DAG run): each commits
    only on top of the theme version it read, and the one that loses is redone on the winner's
    result, so neither rolls the other back.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return _build_once(settings, spec, today=today, full=full, buckets=buckets)
        except ConcurrentCommit:
            if attempt >= BUILD_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.05, 0.3) * attempt)


def conflicts_version_of(theme: TableRef, version: int | None = None) -> int | None:
    """The conflicts table version built together with a theme version (None: no conflicts)."""
    for entry in delta.history(theme):
        if version is not None and int(entry["version"]) > version:
            continue
        if entry.get(SOURCES_KEY) is not None:
            found = entry.get(CONFLICTS_KEY)
            return int(found) if found not in (None, "") else None
    return None


def _build_once(
    settings: Settings, spec: ThemeSpec, *, today: date, full: bool, buckets: int
) -> ThemeSummary:
    from pyspark.sql import functions as F

    started = time.perf_counter()
    summary = ThemeSummary(theme=spec.name, table=spec.table, warnings=list(spec.warnings))
    theme_ref, conflicts_ref = theme_tables(settings, spec)
    theme_snap, conflicts_snap = delta.snapshot(theme_ref), delta.snapshot(conflicts_ref)
    links = source_links(spec)
    refs = {t: TableRef(settings.lake_path, "validated", t) for t in links}
    versions = {t: v for t, ref in refs.items() if (v := delta.version(ref)) is not None}
    if spec.base.table not in versions:
        summary.warnings.append(f"基础来源 {spec.base.resource_code} 尚无数据 (no base data yet)")
        summary.skipped = True
        return summary
    spark = spark_session(settings)
    frames = {t: spark.read.parquet(*delta.live_files(refs[t])) for t in versions}
    previous = _previous(theme_ref)
    incremental = not full and delta.exists(theme_ref) and bool(previous)
    if incremental and previous == versions:
        summary.skipped = True
        summary.version = delta.version(theme_ref)
        summary.conflicts_version = delta.version(conflicts_ref)
        summary.rows = delta.row_count(theme_ref)
        if delta.exists(conflicts_ref):
            summary.conflicts = delta.row_count(conflicts_ref)
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary
    changed: DataFrame | None = None
    touched: set[int] | None = None
    if incremental:
        # Keys that left the base source leave the theme too.
        theme_keys = spark.read.parquet(*theme_snap.files).select(
            F.col(f"`{spec.key}`").alias("__key")
        )
        base_keys = frames[spec.base.table].select(F.col(f"`{spec.base.link}`").alias("__key"))
        changed = theme_keys.join(base_keys, on="__key", how="left_anti")
        # Keys with rows committed since the last build, whenever those rows were received.
        for table, columns in links.items():
            if table not in frames or previous.get(table) == versions[table]:
                continue
            fresh = _new_rows(frames[table], refs[table], previous.get(table))
            if fresh is None:
                continue
            for column in columns:
                changed = changed.unionByName(fresh.select(F.col(f"`{column}`").alias("__key")))
        changed = changed.where(F.col("__key").isNotNull()).distinct().cache()
        summary.keys_rewritten = changed.count()
        touched = {
            int(r[0]) for r in changed.select(_bucket(F.col("__key"), buckets)).distinct().collect()
        }
    summary.full = not incremental
    metadata = {
        SOURCES_KEY: json.dumps(versions, sort_keys=True),
        BUCKETS_KEY: str(buckets),  # readers compute a key's bucket with the same count
        BATCH_KEY: f"theme-{int(time.time() * 1000)}",
    }
    folder = f"build-{metadata[BATCH_KEY]}"
    conflicts = conflict_rows(spec, frames, changed, buckets)
    summary.conflicts_version = conflicts_snap.version
    if conflicts is not None:
        summary.conflicts_version, _ = _replace_buckets(
            spark, conflicts_snap, conflicts, key=spec.key, changed=changed,
            buckets_touched=touched, buckets=buckets, metadata=metadata, folder=folder,
        )  # fmt: skip
    metadata[CONFLICTS_KEY] = (
        "" if summary.conflicts_version is None else str(summary.conflicts_version)
    )
    rows = theme_rows(spec, frames, changed, today, buckets)
    if touched is not None and not touched:
        rows = rows.limit(0)
    summary.version, summary.buckets_rewritten = _replace_buckets(
        spark, theme_snap, rows, key=spec.key, changed=changed, buckets_touched=touched,
        buckets=buckets, metadata=metadata, folder=folder,
    )  # fmt: skip
    if changed is not None:
        changed.unpersist()
    summary.rows = spark.read.parquet(*delta.live_files(theme_ref)).count()
    if summary.full:
        summary.keys_rewritten = summary.rows  # a full build rewrites every key ("0" misled)
    if delta.exists(conflicts_ref):
        summary.conflicts = spark.read.parquet(*delta.live_files(conflicts_ref)).count()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary
