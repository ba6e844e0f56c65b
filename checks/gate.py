"""The gate's decision as a pure function of a batch's counts: no catalogue, no lake, no clock.

The ingest job calls :func:`decide`; ``quality.gate`` records the verdict and carries out
stewards' orders, and ``jobs`` publishes or holds the batch accordingly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from checks.rules import RuleSet

PUBLISHED = "published"  # reached the threshold, passing rows published
HELD = "held"  # below the threshold, nothing published, waiting for a steward
RELEASED = "released"  # a steward let a held batch's passing rows through
REJECTED = "rejected"  # a steward refused a held batch: nothing of it is published
CHECKED = "checked"  # a stand-alone check (govshare quality run): never publishes

LABELS = {
    PUBLISHED: "已入库",
    HELD: "暂缓入库",
    RELEASED: "已放行",
    REJECTED: "已退回",
    CHECKED: "仅检查",
}
REASONS_SHOWN = 10


@dataclass(frozen=True)
class GateDecision:
    """What the gate says about one batch, and the reasons behind a hold."""

    publish: bool
    rows_read: int
    rows_failed: int
    pass_rate: float
    threshold: float
    reasons: list[str] = field(default_factory=list)

    @property
    def rows_passed(self) -> int:
        return self.rows_read - self.rows_failed

    @property
    def message(self) -> str:
        rate, needed = percent_floor(self.pass_rate), f"{self.threshold:.2%}"
        if self.publish:
            return f"合格率 {rate}，达到阈值 {needed}，已入库 (published)"
        return (
            f"合格率 {rate} 低于阈值 {needed}，整批暂缓入库，等待审核员放行或退回 "
            "(held below the threshold)"
        )


def percent_floor(rate: float) -> str:
    """A rate as a percentage with two decimals, rounded down: 98.996% shows as 98.99%, never as
    the 99.00% it falls short of ("合格率 99.00% 低于阈值 99.00%" confused stewards)."""
    return f"{math.floor(round(rate * 10_000, 6)) / 100:.2f}%"  # round(): 0.29 * 10_000 = 2899.99…


def pass_rate(rows_read: int, rows_failed: int) -> float:
    return 1.0 if rows_read == 0 else (rows_read - rows_failed) / rows_read


def reasons(ruleset: RuleSet, counts: dict[str, int], *, rows_read: int) -> list[str]:
    """The rules that failed most, as the provider department reads them."""
    by_id = {r.id: r for r in ruleset.rules}
    ranked = sorted(((c, k) for k, c in counts.items() if c), reverse=True)[:REASONS_SHOWN]
    lines = []
    for failed, rule_id in ranked:
        rule = by_id.get(rule_id)
        text = rule.reason if rule is not None else rule_id.removeprefix("other:")
        share = f"{failed / rows_read:.2%}" if rows_read else "-"
        lines.append(f"{text}：{failed} 行 ({share})")
    return lines


def decide(
    *, rows_read: int, rows_failed: int, threshold: float, reasons: list[str] | None = None
) -> GateDecision:
    """Publish when the pass rate reaches the threshold; an empty batch has nothing to hold."""
    if rows_failed < 0 or rows_failed > rows_read:
        raise ValueError("rows_failed must lie between 0 and rows_read")
    rate = pass_rate(rows_read, rows_failed)
    # Compared on counts, not floats: 99% of 1000 rows is 990, not 989.9999.
    publish = rows_read - rows_failed >= threshold * rows_read - 1e-9
    return GateDecision(
        publish=publish,
        rows_read=rows_read,
        rows_failed=rows_failed,
        pass_rate=rate,
        threshold=threshold,
        reasons=list(reasons or []),
    )
