"""Migration 0005 folds per-resource privacy budgets into per-unit, per-period ones."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from catalog.models import AggregateRelease, PrivacyBudgetAccount
from catalog.store import Catalog
from demo.catalog import DEPT, seed_demo
from infra import db
from infra.settings import Settings
from tests.exchange_api.api_helpers import Clock

THEME, POPULATION, ENTERPRISE = "000008002/000002", "000004001/000001", "000008002/000001"


def test_budgets_of_resources_about_persons_fold_into_one_person_budget(
    settings: Settings, clock: Clock
) -> None:
    store = Catalog(settings, clock=clock)
    try:
        # Seeded through today's models on today's schema, then taken back to 0004 (the models
        # of later tables would not load on the old schema), where the old rows are written.
        store.migrate()
        with store.unit() as ctx:
            seed_demo(ctx)
        db.downgrade(store.engine, "0004")
        at = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
        with store.engine.begin() as conn:
            ids = dict(conn.execute(text("SELECT code, id FROM resources")).all())
            dept = conn.execute(
                text("SELECT id FROM departments WHERE code = :c"), {"c": DEPT["rs"]}
            ).scalar_one()
            for code, spent in ((THEME, 1.5), (POPULATION, 0.5), (ENTERPRISE, 0.5)):
                conn.execute(
                    text(
                        "INSERT INTO privacy_budgets (department_id, resource_id, total_epsilon,"
                        " spent_epsilon, updated_at) VALUES (:d, :r, 5.0, :s, :at)"
                    ),
                    {"d": dept, "r": ids[code], "s": spent, "at": at},
                )
            conn.execute(
                text(
                    "INSERT INTO aggregate_releases (department_id, resource_id, table_version,"
                    " query_hash, result, epsilon, created_at) VALUES (:d, :r, 0, 'h', '{}',"
                    " 0.5, :at)"
                ),
                {"d": dept, "r": ids[POPULATION], "at": at},
            )
        store.migrate()
        with store.unit() as ctx:
            budgets = {
                b.privacy_unit: (b.period, b.total_units, b.spent_units)
                for b in ctx.session.scalars(select(PrivacyBudgetAccount))
            }
            release = ctx.session.scalars(select(AggregateRelease)).one()
        assert budgets == {
            "person": ("2026", 5 * 10**12, 2 * 10**12),
            f"resource:{ENTERPRISE}": ("2026", 5 * 10**12, 5 * 10**11),
        }
        assert (release.privacy_unit, release.period) == ("person", "2026")
    finally:
        store.dispose()
