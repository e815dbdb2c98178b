"""Timers: the due times of dialogs that WAIT, fired once across processes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("session_id", sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("bot_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", Time),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_timers_due_at", "timers", ["due_at"])
    op.create_index("ix_timers_session_id", "timers", ["session_id"])


def downgrade() -> None:
    op.drop_table("timers")
