"""quality gate: profiles, steward rules, batch results, notifications, decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog.models


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quality_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('item_standards', sa.JSON(), nullable=False),
    sa.Column('references', sa.Boolean(), nullable=False),
    sa.Column('updated_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_quality_profiles_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_profiles')),
    sa.UniqueConstraint('resource_id', name=op.f('uq_quality_profiles_resource_id'))
    )
    op.create_table('quality_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('item_name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('removed_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_quality_rules_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_rules'))
    )
    with op.batch_alter_table('quality_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_rules_resource_id'), ['resource_id'], unique=False)

    op.create_table('quality_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('run_kind', sa.String(length=10), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_passed', sa.Integer(), nullable=False),
    sa.Column('rows_failed', sa.Integer(), nullable=False),
    sa.Column('pass_rate', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('sample', sa.JSON(), nullable=False),
    sa.Column('docs_path', sa.String(length=1000), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_quality_results_department_id_departments')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_quality_results_resource_id_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_results')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_quality_results_batch_id'))
    )
    with op.batch_alter_table('quality_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_results_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_results_decision'), ['decision'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_results_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_results_resource_id'), ['resource_id'], unique=False)

    op.create_table('quality_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', catalog.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_quality_notifications_department_id_departments')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_quality_notifications_resource_id_resources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_notifications'))
    )
    with op.batch_alter_table('quality_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_notifications_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_notifications_department_id'), ['department_id'], unique=False)

    op.create_table('quality_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['result_id'], ['quality_results.id'], name=op.f('fk_quality_decisions_result_id_quality_results'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_decisions'))
    )
    with op.batch_alter_table('quality_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_decisions_result_id'), ['result_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quality_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_decisions_result_id'))
    op.drop_table('quality_decisions')
    with op.batch_alter_table('quality_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_notifications_department_id'))
        batch_op.drop_index(batch_op.f('ix_quality_notifications_batch_id'))
    op.drop_table('quality_notifications')
    with op.batch_alter_table('quality_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_results_resource_id'))
        batch_op.drop_index(batch_op.f('ix_quality_results_department_id'))
        batch_op.drop_index(batch_op.f('ix_quality_results_decision'))
        batch_op.drop_index(batch_op.f('ix_quality_results_created_at'))
    op.drop_table('quality_results')
    with op.batch_alter_table('quality_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_rules_resource_id'))
    op.drop_table('quality_rules')
    op.drop_table('quality_profiles')
