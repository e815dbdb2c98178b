"""llm usage: the tokens of an LLM's answer on its message, and the ledger of tokens a day per bot and session.

Revision ID: 0009_llm_usage
Revises: 0007_mailboxes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_llm_usage"
down_revision = "0007_mailboxes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("token_count", sa.Integer, nullable=True))  # no table rewrite: nullable
    op.create_table(
        "llm_usage",
        sa.Column("bot_id", sa.String(100), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("scope", sa.String(40), primary_key=True),
        sa.Column("tokens", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("llm_usage")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("token_count")
