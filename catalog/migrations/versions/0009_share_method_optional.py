"""resources.share_method may be empty: a 不予共享 resource whose catalogue left 共享方式 blank

Revision ID: 0005_share_method
Revises: 0005_batch_lease
Create Date: 2026-12-04 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_share_method'
down_revision: str | None = '0005_batch_lease'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_METHOD = sa.Enum('库表', '接口', '文件', '线下', name='sharemethod', native_enum=False, length=16)


def upgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.alter_column('share_method', existing_type=_METHOD, nullable=True)


def downgrade() -> None:
    op.execute("UPDATE resources SET share_method = '接口' WHERE share_method IS NULL")
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.alter_column('share_method', existing_type=_METHOD, nullable=False)
