"""Operational figures read from the catalogue for monitoring (Prometheus ``/metrics``).

Ingest and the quality gate run in Airflow tasks and CLI commands, privacy budgets are spent
by every API worker: none of them is one process's to count. The catalogue records all of
them, so a scrape reads the totals here, whatever process did the work. Each figure is one
grouped query over a small table (batches, gate results, budget rows), cheap enough for a
scrape every 15 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Department, IngestBatch, PrivacyBudgetAccount, QualityResult


@dataclass(frozen=True)
class BudgetFigure:
    department_code: str
    privacy_unit: str
    period: str
    total_units: int
    spent_units: int


@dataclass(frozen=True)
class CatalogueFigures:
    """Totals since the catalogue began (batches by status, rows by fate, gate decisions)."""

    batches: dict[str, int]
    rows: dict[str, int]  # read / accepted / quarantined, over finished batches
    gate_decisions: dict[str, int]
    budgets: list[BudgetFigure]


def figures(session: Session) -> CatalogueFigures:
    batches = {
        str(status): int(count)
        for status, count in session.execute(
            select(IngestBatch.status, func.count()).group_by(IngestBatch.status)
        )
    }
    read, accepted, quarantined = session.execute(
        select(
            func.coalesce(func.sum(IngestBatch.rows_read), 0),
            func.coalesce(func.sum(IngestBatch.rows_accepted), 0),
            func.coalesce(func.sum(IngestBatch.rows_quarantined), 0),
        )
    ).one()
    decisions = {
        str(decision): int(count)
        for decision, count in session.execute(
            select(QualityResult.decision, func.count()).group_by(QualityResult.decision)
        )
    }
    budgets = [
        BudgetFigure(str(code), str(unit), str(period), int(total), int(spent))
        for code, unit, period, total, spent in session.execute(
            select(
                Department.code,
                PrivacyBudgetAccount.privacy_unit,
                PrivacyBudgetAccount.period,
                PrivacyBudgetAccount.total_units,
                PrivacyBudgetAccount.spent_units,
            )
            .join(Department, Department.id == PrivacyBudgetAccount.department_id)
            .order_by(Department.code, PrivacyBudgetAccount.privacy_unit)
        )
    ]
    return CatalogueFigures(
        batches=batches,
        rows={"read": int(read), "accepted": int(accepted), "quarantined": int(quarantined)},
        gate_decisions=decisions,
        budgets=budgets,
    )
