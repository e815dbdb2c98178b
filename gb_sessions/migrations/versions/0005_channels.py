"""inbox and outbox: the channels' durable messages (webhooks in, push replies out).

Revision ID: 0005_channels
Revises: 0004_schedules, 0004_user_memory

It joins the two revisions that followed 0003 (one head again).
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005_channels"
down_revision = ("0004_schedules", "0004_user_memory")
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _queue_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("bot_id", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", Time),
        sa.Column("error", sa.Text),
        sa.Column("session_id", sa.Uuid),
    ]


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("platform_id", sa.String(300), nullable=False),
        *_queue_columns(),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("done_at", Time),
    )
    op.create_index("ix_inbox_platform", "inbox", ["bot_id", "channel", "platform_id"], unique=True)
    op.create_index("ix_inbox_status_next", "inbox", ["status", "next_attempt_at"])
    op.create_index("ix_inbox_address", "inbox", ["bot_id", "channel", "address", "id"])
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("inbox_id", Id),
        *_queue_columns(),
        sa.Column("platform_id", sa.String(300)),
        sa.Column("delivery", sa.String(20)),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("sent_at", Time),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_address", "outbox", ["channel", "address", "id"])
    op.create_index("ix_outbox_inbox", "outbox", ["inbox_id"])
    op.create_index("ix_outbox_platform", "outbox", ["channel", "platform_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("inbox")
