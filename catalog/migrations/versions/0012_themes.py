"""themes, their derived fields and 核验 subjects as catalogue data

Theme resources, derived-field rules and verification subjects were constants in code;
a province whose resource codes differ could not get themes or 核验 without a code change.

Revision ID: 0012_themes
Revises: 0005_search_index
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from catalog.models import UTCDateTime

revision: str = "0012_themes"
down_revision: str | None = "0005_search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("key_kind", sa.String(length=8), nullable=False),
        sa.Column("population_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_themes_resource_id_resources")
        ),
        sa.ForeignKeyConstraint(
            ["population_id"], ["resources.id"], name=op.f("fk_themes_population_id_resources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("code", name=op.f("uq_themes_code")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_themes_resource_id")),
    )
    op.create_table(
        "theme_derived_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_theme_derived_fields_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme_derived_fields")),
        sa.UniqueConstraint("theme_id", "field", name=op.f("uq_theme_derived_fields_theme_id")),
    )
    op.create_table(
        "verification_subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("yes_values", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"],
            name=op.f("fk_verification_subjects_resource_id_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name=op.f("fk_verification_subjects_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_subjects")),
        sa.UniqueConstraint("check", name=op.f("uq_verification_subjects_check")),
    )


def downgrade() -> None:
    op.drop_table("verification_subjects")
    op.drop_table("theme_derived_fields")
    op.drop_table("themes")
