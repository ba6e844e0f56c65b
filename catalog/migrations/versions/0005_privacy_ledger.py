"""privacy ledger: budgets per department, privacy unit and period, in integer ε steps

Budgets were kept per (department, resource) in floats, which let a department query the same
people through another resource on a fresh budget and let concurrent charges lose updates.
Existing accounts are folded into their resource's privacy unit (spent ε summed: it was all
spent on the same people) in the period of their last update; releases get the same labels.

Revision ID: 0005_privacy_ledger
Revises: 0004
Create Date: 2026-12-04 22:00:00
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import catalog.models
from catalog.identifiers import identifier_kind
from privacy.units import BudgetPeriod, budget_period, privacy_unit


revision: str = '0005_privacy_ledger'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNIT = 10**12  # privacy.dp.EPSILON_DECIMALS, frozen here as the migration must not change
_CHINA = ZoneInfo("Asia/Shanghai")


def _units_of(conn: sa.Connection) -> dict[int, str]:
    codes = dict(conn.execute(sa.text("SELECT id, code FROM resources")).all())
    kinds: dict[int, list[str | None]] = defaultdict(list)
    for resource_id, name in conn.execute(sa.text("SELECT resource_id, name FROM data_items")):
        kinds[resource_id].append(identifier_kind(name))
    return {
        rid: privacy_unit(resource_code=code, identifier_kinds=kinds[rid])
        for rid, code in codes.items()
    }


def _period(moment: datetime | str | None) -> str:
    if moment is None:
        return budget_period(datetime.now(UTC).date(), BudgetPeriod.YEAR)
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return budget_period(moment.astimezone(_CHINA).date(), BudgetPeriod.YEAR)


def upgrade() -> None:
    conn = op.get_bind()
    units = _units_of(conn)
    old = conn.execute(
        sa.text(
            "SELECT department_id, resource_id, total_epsilon, spent_epsilon, updated_at "
            "FROM privacy_budgets"
        )
    ).all()
    folded: dict[tuple[int, str, str], list] = {}
    for department_id, resource_id, total, spent, updated_at in old:
        key = (department_id, units[resource_id], _period(updated_at))
        row = folded.setdefault(key, [0, 0, updated_at])
        row[0] = max(row[0], round(float(total) * _UNIT))
        row[1] += round(float(spent) * _UNIT)
    op.drop_table('privacy_budgets')
    budgets = op.create_table('privacy_budgets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('privacy_unit', sa.String(length=80), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('total_units', sa.BigInteger(), nullable=False),
    sa.Column('spent_units', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_privacy_budgets_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_budgets')),
    sa.UniqueConstraint('department_id', 'privacy_unit', 'period', name=op.f('uq_privacy_budgets_department_id'))
    )
    with op.batch_alter_table('privacy_budgets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_budgets_department_id'), ['department_id'], unique=False)
    if folded:
        op.bulk_insert(budgets, [
            {"department_id": d, "privacy_unit": u, "period": p, "total_units": total,
             "spent_units": min(spent, total), "updated_at": _as_datetime(at)}
            for (d, u, p), (total, spent, at) in folded.items()
        ])

    with op.batch_alter_table('aggregate_releases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('privacy_unit', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('period', sa.String(length=16), nullable=False, server_default=''))
    releases = conn.execute(sa.text("SELECT id, resource_id, created_at FROM aggregate_releases")).all()
    for release_id, resource_id, created_at in releases:
        conn.execute(
            sa.text("UPDATE aggregate_releases SET privacy_unit = :u, period = :p WHERE id = :i"),
            {"u": units[resource_id], "p": _period(created_at), "i": release_id},
        )


def _as_datetime(moment: datetime | str) -> datetime:
    return datetime.fromisoformat(moment) if isinstance(moment, str) else moment


def downgrade() -> None:
    with op.batch_alter_table('aggregate_releases', schema=None) as batch_op:
        batch_op.drop_column('period')
        batch_op.drop_column('privacy_unit')
    # Unit budgets cannot be split back per resource: the old table starts empty.
    op.drop_table('privacy_budgets')
    op.create_table('privacy_budgets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('total_epsilon', sa.Float(), nullable=False),
    sa.Column('spent_epsilon', sa.Float(), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_privacy_budgets_department_id_departments')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_privacy_budgets_resource_id_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_budgets')),
    sa.UniqueConstraint('department_id', 'resource_id', name=op.f('uq_privacy_budgets_department_id'))
    )
    with op.batch_alter_table('privacy_budgets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_budgets_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_budgets_resource_id'), ['resource_id'], unique=False)
