"""ingest batch lease: a running job renews it; an expired lease marks the batch failed

Revision ID: 0005_batch_lease
Revises: 0005_quotas
Create Date: 2026-12-04 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog.models


revision: str = '0005_batch_lease'
down_revision: str | None = '0005_quotas'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ingest_batches', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('lease_until', catalog.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('ingest_batches', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
