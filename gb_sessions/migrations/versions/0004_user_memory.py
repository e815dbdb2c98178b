"""user_memory: SET USER MEMORY and REMEMBER, per user within a bot, with an optional expiry.

Revision ID: 0004_user_memory
Revises: 0003_rate_limit_hits

Its id is its own (a revision written beside it on another branch may also follow 0003):
``migrate`` upgrades every head.
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_user_memory"
down_revision = "0003_rate_limit_hits"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_memory",
        sa.Column("bot_id", sa.String(100), sa.ForeignKey("bots.id"), primary_key=True),
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("value", Json),
        sa.Column("expires_at", Time),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_user_memory_expires_at", "user_memory", ["expires_at"])
    op.create_index("ix_user_memory_owner", "user_memory", ["owner"])


def downgrade() -> None:
    op.drop_table("user_memory")
