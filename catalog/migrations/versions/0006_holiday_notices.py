"""holiday notices: the State Council's yearly holiday arrangement, imported by stewards

Revision ID: 0005_holiday_notices
Revises: 0005_privacy_ledger
Create Date: 2026-12-04 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalog.models


revision: str = '0005_holiday_notices'
down_revision: str | None = '0005_privacy_ledger'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('holiday_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('imported_at', catalog.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holiday_notices')),
    sa.UniqueConstraint('year', name=op.f('uq_holiday_notices_year'))
    )


def downgrade() -> None:
    op.drop_table('holiday_notices')
