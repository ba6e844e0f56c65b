"""resources.pending_revision: a published resource's proposed next version, awaiting review

A published resource keeps serving its current version while a change to it is reviewed (as a
mount's pending_config does); the proposal is the ResourceIn a provider or an import wrote.

Revision ID: 0012_resource_revision
Revises: 0005_search_index
Create Date: 2027-01-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_resource_revision"
down_revision: str | None = "0012_themes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("resources", sa.Column("pending_revision", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_column("pending_revision")
