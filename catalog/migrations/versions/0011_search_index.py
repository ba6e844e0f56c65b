"""search index: one document per resource in the database's full-text index

Replaces the bigram postings (search_grams) that search counted in SQL. SQLite gets a
contentless FTS5 table (search_fts), PostgreSQL a GIN-indexed tsvector column on search_docs;
both hold the tokens catalog.search builds. Existing resources are indexed here.

Revision ID: 0005_search_index
Revises: 0008_counters
Create Date: 2026-12-04 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_search_index"
down_revision: str | None = "0008_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from catalog import search  # the tokens are search's: one definition for both sides

    op.create_table(
        "search_docs",
        sa.Column("resource_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("code_text", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("share_type", sa.String(length=16), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_search_docs")),
    )
    op.create_index(op.f("ix_search_docs_code"), "search_docs", ["code"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # No text kept (content=''), no positions (detail=none): every token is a whole
        # substring, so the index only has to say which documents hold it.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "doc, content='', detail=none, tokenize='ascii')"
        )
    else:
        op.execute("ALTER TABLE search_docs ADD COLUMN doc tsvector NOT NULL")
        # Documents go out of line so that reading codes in order touches small rows only.
        op.execute("ALTER TABLE search_docs ALTER COLUMN doc SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE search_docs SET (toast_tuple_target = 128)")
        op.execute("CREATE INDEX ix_search_docs_doc ON search_docs USING gin (doc)")
    search.rebuild_index(bind)
    with op.batch_alter_table("search_grams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_grams_resource_id"))
    op.drop_table("search_grams")


def downgrade() -> None:
    from catalog import search

    op.create_table(
        "search_grams",
        sa.Column("gram", sa.String(length=8), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_search_grams_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gram", "resource_id", name=op.f("pk_search_grams")),
    )
    with op.batch_alter_table("search_grams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_grams_resource_id"), ["resource_id"], unique=False
        )
    bind = op.get_bind()
    # The postings the previous search wrote: bigrams of name, summary and item names, plus
    # the code's first eight characters.
    texts: dict[int, list[str]] = {}
    for rid, name, summary, code in bind.execute(
        sa.text("SELECT id, name, summary, code FROM resources")
    ):
        texts[rid] = [name, summary or "", code]
    for rid, name in bind.execute(sa.text("SELECT resource_id, name FROM data_items")):
        texts[rid].insert(-1, name)
    rows = [
        {"gram": gram, "resource_id": rid}
        for rid, parts in texts.items()
        for gram in sorted(
            set().union(*(search.bigrams(t) for t in parts[:-1]))
            | {search.normalise(parts[-1])[:8]}
        )
    ]
    if rows:
        bind.execute(sa.text("INSERT INTO search_grams (gram, resource_id) VALUES (:gram, :resource_id)"), rows)
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_index(op.f("ix_search_docs_code"), table_name="search_docs")
    op.drop_table("search_docs")
