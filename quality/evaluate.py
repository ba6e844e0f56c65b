"""Row-level evaluation of a resource's rules on Spark, in one pass over the batch.

GE's Spark engine computes one metric job per expectation and, to name failing rows, a second
pass per expectation; at a million rows and twenty expectations that is far slower than the
ingest scan itself. Here every rule is a column expression: one ``select`` builds the
``_errors`` array (the reasons a row fails, which is what quarantine keeps) and one
aggregation counts rows read, rows failed and failures per rule. Only the counts and a small,
masked sample of failing rows come back to the driver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.settings import Settings
from privacy.masking import mask
from quality.rules import RuleSet

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SAMPLE_ROWS = 20
ERRORS = "_errors"
ROW_NUMBER = "_row_number"


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


def classify(
    frame: DataFrame,
    ruleset: RuleSet,
    *,
    spark: SparkSession,
    settings: Settings,
) -> DataFrame:
    """``frame`` (text columns named after the items) with typed values and ``_errors``.

    The rules are applied by the ingest job's own ``classify_rows``, so a check run judges
    rows exactly as a batch would. Among rows that pass, the first occurrence of a key wins;
    this path keeps a window for that (caching for the ingest job's narrow aggregate was
    slower here, where nothing else reads the frame).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from pipelines.ingest import classify_rows

    if ROW_NUMBER not in frame.columns:
        frame = frame.withColumn(ROW_NUMBER, F.monotonically_increasing_id())
    out, _reasons = classify_rows(
        frame, ruleset.items, ruleset=ruleset, spark=spark, settings=settings
    )
    if ruleset.keys:
        key_rule = next(r for r in ruleset.rules if r.kind == "unique_key")
        window = Window.partitionBy(*(F.col(f"`{value_column(k)}`") for k in ruleset.keys))
        clean = F.size(ERRORS) == 0
        first = F.min(F.when(clean, F.col(ROW_NUMBER))).over(window.orderBy(ROW_NUMBER))
        duplicate = clean & (first < F.col(ROW_NUMBER))
        out = out.withColumn(
            ERRORS,
            F.when(duplicate, F.array_append(F.col(ERRORS), F.lit(key_rule.reason))).otherwise(
                F.col(ERRORS)
            ),
        )
    return out


def count(
    classified: DataFrame, ruleset: RuleSet, *, sample_rows: int = SAMPLE_ROWS
) -> tuple[int, int, dict[str, int], list[dict[str, Any]]]:
    """Rows read, rows failed, failures per rule and a failure sample, in one aggregation.

    The sample rides in the same aggregation (failing rows collected per partition, then cut
    to ``sample_rows``): a separate ``limit`` would re-run the key-uniqueness window.
    """
    from pyspark.sql import functions as F

    failed = F.size(ERRORS) > 0
    row_struct = F.struct(
        *(F.col(f"`{i.name}`").cast("string").alias(i.name) for i in ruleset.items),
        F.col(ROW_NUMBER).alias(ROW_NUMBER),
        F.col(ERRORS).alias(ERRORS),
    )
    aggregates = [
        F.count(F.lit(1)).alias("read"),
        F.sum(failed.cast("long")).alias("failed"),
        F.slice(F.collect_list(F.when(failed, row_struct)), 1, sample_rows).alias("sample"),
    ]
    aggregates += [
        F.sum(F.array_contains(ERRORS, rule.reason).cast("long")).alias(f"r{i}")
        for i, rule in enumerate(ruleset.rules)
    ]
    row = classified.agg(*aggregates).first()
    assert row is not None
    counts = {rule.id: int(row[f"r{i}"] or 0) for i, rule in enumerate(ruleset.rules)}
    sample = [sample_entry(r.asDict(), ruleset) for r in (row["sample"] or [])]
    return int(row["read"]), int(row["failed"] or 0), counts, sample


def sample_entry(data: dict[str, Any], ruleset: RuleSet) -> dict[str, Any]:
    return {
        "row_number": data.get(ROW_NUMBER),
        "reasons": list(data.get(ERRORS) or []),
        "values": masked_row(data, ruleset),
    }


def masked_row(row: dict[str, Any], ruleset: RuleSet) -> dict[str, Any]:
    """A failing row as reports may show it: personal items masked (privacy/ maskers)."""
    shown: dict[str, Any] = {}
    for item in ruleset.items:
        value = row.get(item.name)
        text = None if value is None else str(value)
        kind = ruleset.masks.get(item.name)
        shown[item.name] = mask(text, kind) if kind and text is not None else text
    return shown


def failure_sample(
    failing: DataFrame, ruleset: RuleSet, *, limit: int = SAMPLE_ROWS
) -> list[dict[str, Any]]:
    """Up to ``limit`` failing rows, masked, each with its row number and reasons.

    ``failing`` is any frame with the item columns, ``_row_number`` and ``_errors`` (the
    ingest job's quarantined rows qualify); only ``limit`` rows reach the driver.
    """
    columns = [f"`{i.name}`" for i in ruleset.items] + [ROW_NUMBER, ERRORS]
    rows = failing.select(*columns).limit(limit).collect()
    return [sample_entry(row.asDict(), ruleset) for row in rows]


def evaluate(
    frame: DataFrame,
    ruleset: RuleSet,
    *,
    spark: SparkSession,
    settings: Settings,
    sample_rows: int = SAMPLE_ROWS,
) -> Evaluation:
    """Counts and a masked failure sample of ``frame`` under ``ruleset``; publishes nothing."""
    started = time.perf_counter()
    classified = classify(frame, ruleset, spark=spark, settings=settings)
    read, failed, counts, sample = count(classified, ruleset, sample_rows=sample_rows)
    return Evaluation(
        rows_read=read,
        rows_failed=failed,
        counts=counts,
        sample=sample,
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
            frame = reader.option("header", True).csv(str(path))
    return frame.select(*(F.col(f"`{c}`").cast("string").alias(c.strip()) for c in frame.columns))
