"""References to the base libraries (基础库): does this enterprise or person exist there?

An enterprise's 统一社会信用代码 must be in the 法人 base table, a person's ID number in the
population (人口) table. Checking that is one extra join per reference rule against the
distinct keys of the base resource's validated Delta table, a left join that adds a boolean
column (``Rule.marker``) and never multiplies rows; the keys are broadcast when the table is
small, so the batch is not shuffled. Nothing is collected to the driver.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from infra.settings import Settings
from pipelines.lake import delta
from pipelines.lake.delta import TableRef
from quality.rules import Reference, RuleSet

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger("govshare.quality")

# Base tables whose Parquet files add up to less than this are broadcast to every executor.
BROADCAST_BYTES = 256 * 1024 * 1024


def base_keys(
    spark: SparkSession, settings: Settings, reference: Reference
) -> tuple[DataFrame, bool] | None:
    """The base table's distinct keys (column ``__k``) and whether they are small enough to
    broadcast; None if the table is not loaded yet."""
    from pyspark.sql import functions as F

    table = TableRef(settings.lake_path, "validated", reference.table)
    files = delta.live_files(table)
    if not files:
        return None
    keys = (
        spark.read.parquet(*files)
        .select(F.col(f"`{reference.key}`").cast("string").alias("__k"))
        .where(F.col("__k").isNotNull())
        .distinct()
    )
    size = sum(os.path.getsize(f.removeprefix("file://")) for f in files)
    return keys, size <= BROADCAST_BYTES


def with_references(
    frame: DataFrame,
    ruleset: RuleSet,
    *,
    spark: SparkSession,
    settings: Settings,
    text_of: Callable[[str], Column],
) -> DataFrame:
    """``frame`` with one boolean column per reference rule: true when the value was found.

    ``text_of(item)`` is the item's standardised value (in the ingest job, the typed
    ``__v_<item>`` column). A base library not loaded yet cannot be checked: its column is
    true for every row (logged), so a new deployment is not held by an empty base table.
    """
    from pyspark.sql import functions as F

    out = frame
    for rule in ruleset.reference_rules:
        assert rule.reference is not None
        base = base_keys(spark, settings, rule.reference)
        if base is None:
            log.warning(
                "base table %s not loaded: reference rule %s passes", rule.reference.table, rule.id
            )
            out = out.withColumn(rule.marker, F.lit(True))
            continue
        keys, small = base
        key_col = f"__k_{rule.marker}"
        found = keys.select(F.col("__k").alias(key_col), F.lit(True).alias(rule.marker))
        found = F.broadcast(found) if small else found
        out = out.join(found, text_of(rule.item) == F.col(key_col), "left").drop(key_col)
    return out
