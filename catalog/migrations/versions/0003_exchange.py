"""exchange: audit log, privacy budgets, aggregate releases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog.models


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('department_code', sa.String(length=18), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('resource_code', sa.String(length=64), nullable=True),
    sa.Column('provider_code', sa.String(length=18), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('table_version', sa.Integer(), nullable=True),
    sa.Column('epsilon', sa.String(length=24), nullable=False),
    sa.Column('result_hash', sa.String(length=64), nullable=False),
    sa.Column('subject_hash', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_log_seq'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_department_code'), ['department_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_resource_code'), ['resource_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_provider_code'), ['provider_code'], unique=False)

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

    op.create_table('aggregate_releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('table_version', sa.Integer(), nullable=False),
    sa.Column('query_hash', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('epsilon', sa.Float(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_aggregate_releases_department_id_departments')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_aggregate_releases_resource_id_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aggregate_releases')),
    sa.UniqueConstraint('department_id', 'resource_id', 'query_hash', name=op.f('uq_aggregate_releases_department_id'))
    )
    with op.batch_alter_table('aggregate_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aggregate_releases_department_id'), ['department_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('aggregate_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aggregate_releases_department_id'))
    op.drop_table('aggregate_releases')
    with op.batch_alter_table('privacy_budgets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_budgets_resource_id'))
        batch_op.drop_index(batch_op.f('ix_privacy_budgets_department_id'))
    op.drop_table('privacy_budgets')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_provider_code'))
        batch_op.drop_index(batch_op.f('ix_audit_log_resource_code'))
        batch_op.drop_index(batch_op.f('ix_audit_log_department_code'))
    op.drop_table('audit_log')
