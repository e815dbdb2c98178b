"""knowledge: the knowledge bases' files and passages, with their full-text index
(SQLite: an FTS5 table over the passages' terms; PostgreSQL: a tsvector column and its GIN index).

Revision ID: 0010_knowledge
Revises: 0009_llm_usage
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_knowledge"
down_revision = "0009_llm_usage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_files",
        sa.Column("bot_id", sa.String(100), primary_key=True),
        sa.Column("kb", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(1000), primary_key=True),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("passages", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "kb_passages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bot_id", sa.String(100), nullable=False),
        sa.Column("kb", sa.String(200), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("ord", sa.Integer, nullable=False),
        sa.Column("heading", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("heading_terms", sa.Text),
        sa.Column("body_terms", sa.Text),
    )
    op.create_index("kb_passages_file", "kb_passages", ["bot_id", "kb", "source"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE kb_passages ADD COLUMN tsv tsvector")
        op.execute("CREATE INDEX kb_passages_tsv ON kb_passages USING gin (tsv)")
    else:
        op.execute("CREATE VIRTUAL TABLE kb_fts USING fts5(heading_terms, body_terms, content='kb_passages', "
                   "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE kb_fts")
    op.drop_table("kb_passages")
    op.drop_table("kb_files")
