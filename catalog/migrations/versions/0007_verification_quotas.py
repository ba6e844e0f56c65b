"""核验 case and matter in the audit log; usage counters and provider alerts (issue 13)

Revision ID: 0005_quotas
Revises: 0005_holiday_notices
Create Date: 2026-12-04 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog.models


revision: str = '0005_quotas'
down_revision: str | None = '0005_holiday_notices'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('business_matter', sa.String(length=200), nullable=True))

    op.create_table('usage_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_counters')),
    sa.UniqueConstraint('scope', 'subject', 'period', name=op.f('uq_usage_counters_scope'))
    )
    op.create_table('usage_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('department_code', sa.String(length=18), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['departments.id'], name=op.f('fk_usage_alerts_provider_id_departments')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_usage_alerts_resource_id_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_alerts')),
    sa.UniqueConstraint('resource_id', 'department_code', 'kind', 'period', name=op.f('uq_usage_alerts_resource_id'))
    )
    with op.batch_alter_table('usage_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_alerts_provider_id'), ['provider_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('usage_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_alerts_provider_id'))
    op.drop_table('usage_alerts')
    op.drop_table('usage_counters')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('business_matter')
        batch_op.drop_column('case_ref')
