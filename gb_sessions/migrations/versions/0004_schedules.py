"""schedules: the dialogs that run on their own (``SET SCHEDULE``), fired once across processes.

Revision ID: 0004_schedules
Revises: 0003_rate_limit_hits

Its id is its own (a revision written beside it on another branch may also follow 0003):
``migrate`` upgrades every head.
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_schedules"
down_revision = "0003_rate_limit_hits"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("bot_id", sa.String(100), nullable=False),
        sa.Column("dialog", sa.String(200), nullable=False),
        sa.Column("job", sa.String(300), nullable=False),
        sa.Column("param", sa.String(300)),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("cron", sa.String(200)),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("place", sa.String(300)),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("next_due", Time),
        sa.Column("running_due", Time),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", Time),
        sa.Column("last_run", Time),
        sa.Column("last_result", sa.String(10)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_session", sa.Uuid),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_schedules_next_due", "schedules", ["next_due"])
    op.create_index("ix_schedules_bot_dialog_job", "schedules", ["bot_id", "dialog", "job"], unique=True)


def downgrade() -> None:
    op.drop_table("schedules")
