"""Rules for theme fields that no single source holds: counts and statuses.

Each rule returns one row per theme key with the value and the as-of time of the newest
source row it used, so derived fields carry provenance like the others. Which columns a rule
reads are parameters of the steward's definition (``catalog.themes.DERIVED_RULES`` documents
them, with the defaults the national catalogue names use), never names fixed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


@dataclass(frozen=True)
class RuleInput:
    """What a rule is given besides the source frames: the theme key's name, the source
    columns naming the key, the rule's parameters and the build date."""

    key: str
    links: tuple[str, ...]
    today: date
    params: dict[str, Any] = field(default_factory=dict)


Rule = Callable[["dict[str, DataFrame]", RuleInput], "DataFrame | None"]


def _one(frames: dict[str, DataFrame]) -> DataFrame | None:
    return next(iter(frames.values()), None)


def _link(given: RuleInput) -> str:
    return given.links[0] if given.links else given.key


def count_rows(frames: dict[str, DataFrame], given: RuleInput) -> DataFrame | None:
    """行政处罚次数 and the like: how many records of the source name the subject."""
    from pyspark.sql import functions as F

    frame = _one(frames)
    if frame is None:
        return None
    return frame.groupBy(F.col(f"`{_link(given)}`").alias("__key")).agg(
        F.count(F.lit(1)).cast("bigint").alias("__value"), F.max("_ingested_at").alias("__as_of")
    )


def count_valid_licences(frames: dict[str, DataFrame], given: RuleInput) -> DataFrame | None:
    """有效证照数: licences held by the subject that are in force on the build date."""
    from pyspark.sql import functions as F

    frame = _one(frames)
    if frame is None:
        return None
    until = F.col(f"`{given.params['valid_until']}`")
    state = F.col(f"`{given.params['state']}`")
    in_force = (until.isNull() | (until >= F.lit(given.today))) & (
        state.isNull() | state.isin(*given.params["valid_states"])
    )
    return (
        frame.where(in_force)
        .groupBy(F.col(f"`{_link(given)}`").alias("__key"))
        .agg(
            F.count(F.lit(1)).cast("bigint").alias("__value"),
            F.max("_ingested_at").alias("__as_of"),
        )
    )


def marriage_status(frames: dict[str, DataFrame], given: RuleInput) -> DataFrame | None:
    """婚姻状况 from the newest 结婚/离婚 registration naming the person on either side."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frame = _one(frames)
    if frame is None:
        return None
    kind, when = given.params["kind"], given.params["date"]
    sides = [
        frame.select(
            F.col(f"`{column}`").alias("__key"),
            F.col(f"`{kind}`").alias("__kind"),
            F.col(f"`{when}`").alias("__date"),
            "_ingested_at",
        )
        for column in given.links
    ]
    events = sides[0]
    for other in sides[1:]:
        events = events.unionByName(other)
    events = events.where(F.col("__key").isNotNull())
    newest = Window.partitionBy("__key").orderBy(F.col("__date").desc_nulls_last())
    status: Column = F.when(F.col("__kind").contains("离"), F.lit("离异")).when(
        F.col("__kind").contains("结"), F.lit("已婚")
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
# Rules computed from the theme's own fields rather than from source tables (in build).
FIELD_RULES = ("alive",)
