"""References to the base libraries (基础库): does this enterprise or person exist there?

An enterprise's 统一社会信用代码 must be in the 法人 base table, a person's ID number in the
population (人口) table. The driver only names the base table's live Parquet files; each Spark
task reads the key column itself, once, and looks values up in a hash set
(``pyarrow.compute.is_in``), so no join shuffles the batch and nothing funnels through the
driver. A base table with a million keys is about 20 MB in a task's memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from checks.rules import Reference, RuleSet
from infra.settings import Settings
from lake import delta
from lake.delta import TableRef

log = logging.getLogger("govshare.quality")


@dataclass(frozen=True)
class BaseKeys:
    """Where one reference rule finds its base keys; ``files`` empty: base not loaded yet."""

    rule_id: str
    files: tuple[str, ...]
    key: str

    def load(self) -> pa.Array | None:
        """The distinct keys as text (the rule compares standardised values as text)."""
        if not self.files:
            return None
        paths = [f.removeprefix("file://") for f in self.files]
        column = pq.read_table(paths, columns=[self.key]).column(self.key)
        return pc.unique(pc.cast(column, pa.string()).combine_chunks()).drop_null()


def missing_bases(settings: Settings, ruleset: RuleSet) -> list[Reference]:
    """The base libraries the rule set refers to whose table holds no data yet.

    Their reference rules cannot be checked, so an ingest holds the batch instead of passing
    every row unchecked (a first ``ingest --all`` once published 98 wrong licence rows so).
    """
    missing: dict[str, Reference] = {}
    for rule in ruleset.reference_rules:
        assert rule.reference is not None
        table = TableRef(settings.lake_path, "validated", rule.reference.table)
        if rule.reference.table not in missing and not delta.live_files(table):
            missing[rule.reference.table] = rule.reference
    return list(missing.values())


def base_keys(settings: Settings, ruleset: RuleSet) -> tuple[BaseKeys, ...]:
    """One entry per reference rule, resolved against the current version of the base table.

    A base library not loaded yet cannot be checked. Ingest holds such a batch before it
    gets here (:func:`missing_bases`); a stand-alone check passes the rule and logs it.
    """
    out = []
    for rule in ruleset.reference_rules:
        assert rule.reference is not None
        table = TableRef(settings.lake_path, "validated", rule.reference.table)
        files = tuple(delta.live_files(table))
        if not files:
            log.warning(
                "基础库尚未入库，引用规则 %s 未核验 (base table %s not loaded: rule not checked)",
                rule.id,
                rule.reference.table,
            )
        out.append(BaseKeys(rule_id=rule.id, files=files, key=rule.reference.key))
    return tuple(out)
