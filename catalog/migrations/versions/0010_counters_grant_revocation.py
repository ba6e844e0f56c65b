"""counters (demand codes, audit sequence) and the reason a grant was revoked

Revision ID: 0008_counters
Revises: 0005_share_method
Create Date: 2026-12-04 22:00:00

Counters start from what the database already holds: the audit sequence from the last
entry, so upgraded deployments continue their chain. Demand-code counters are created per
day on first use and seeded from that day's existing codes (see ``catalog.demands``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008_counters'
down_revision: str | None = '0005_share_method'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.execute(
        "INSERT INTO counters (name, value) "
        "SELECT 'audit_log.seq', MAX(seq) FROM audit_log HAVING COUNT(*) > 0"
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('revoke_reason', sa.String(length=500), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_column('revoke_reason')
    op.drop_table('counters')
