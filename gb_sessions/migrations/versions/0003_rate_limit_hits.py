"""rate_limit_hits: the sliding window of new sessions per client when there is no Valkey.

Revision ID: 0003_rate_limit_hits
Revises: 0002

Its id is its own (a revision written beside it on another branch may also follow 0002):
``migrate`` upgrades every head.
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_rate_limit_hits"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_limit_hits_key_at", "rate_limit_hits", ["key", "at"])
    op.create_index("ix_rate_limit_hits_at", "rate_limit_hits", ["at"])


def downgrade() -> None:
    op.drop_table("rate_limit_hits")
