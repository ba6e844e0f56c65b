"""Rules for theme fields that no single source holds: counts and statuses.

Each rule returns one row per theme key with the value and the as-of time of the newest
source row it used, so derived fields carry provenance like the others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

Rule = Callable[["dict[str, DataFrame]", str, date], "DataFrame | None"]


def _one(frames: dict[str, DataFrame]) -> DataFrame | None:
    return next(iter(frames.values()), None)


def count_rows(frames: dict[str, DataFrame], key: str, today: date) -> DataFrame | None:
    """行政处罚次数: how many records of the source name the enterprise."""
    from pyspark.sql import functions as F

    frame = _one(frames)
    if frame is None:
        return None
    return frame.groupBy(F.col(f"`{key}`").alias("__key")).agg(
        F.count(F.lit(1)).cast("bigint").alias("__value"), F.max("_ingested_at").alias("__as_of")
    )


def count_valid_licences(frames: dict[str, DataFrame], key: str, today: date) -> DataFrame | None:
    """有效证照数: licences held by the enterprise that are in force on the build date."""
    from pyspark.sql import functions as F

    frame = _one(frames)
    if frame is None:
        return None
    in_force = (F.col("有效期至").isNull() | (F.col("有效期至") >= F.lit(today))) & (
        F.col("证照状态").isNull() | F.col("证照状态").isin("有效", "正常")
    )
    return (
        frame.where(in_force)
        .groupBy(F.col("持证主体代码").alias("__key"))
        .agg(
            F.count(F.lit(1)).cast("bigint").alias("__value"),
            F.max("_ingested_at").alias("__as_of"),
        )
    )


def marriage_status(frames: dict[str, DataFrame], key: str, today: date) -> DataFrame | None:
    """婚姻状况 from the newest 结婚/离婚 registration naming the person on either side."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frame = _one(frames)
    if frame is None:
        return None
    sides = [
        frame.select(F.col(column).alias("__key"), "登记类型", "登记日期", "_ingested_at")
        for column in ("男方身份证号", "女方身份证号")
    ]
    events = sides[0].unionByName(sides[1]).where(F.col("__key").isNotNull())
    newest = Window.partitionBy("__key").orderBy(F.col("登记日期").desc_nulls_last())
    status: Column = F.when(F.col("登记类型").contains("离"), F.lit("离异")).when(
        F.col("登记类型").contains("结"), F.lit("已婚")
    )
    return (
        events.withColumn("__n", F.row_number().over(newest))
        .where(F.col("__n") == 1)
        .select("__key", status.alias("__value"), F.col("_ingested_at").alias("__as_of"))
    )


RULES: dict[str, Rule] = {
    "count_rows": count_rows,
    "count_valid_licences": count_valid_licences,
    "marriage_status": marriage_status,
}
