"""mailboxes: the email channel's IMAP cursor (UIDVALIDITY, last UID) and lease per mailbox.

Revision ID: 0007_mailboxes
Revises: 0006_queue_waiting
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_mailboxes"
down_revision = "0006_queue_waiting"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("bot_id", sa.String(100), primary_key=True),
        sa.Column("mailbox", sa.String(300), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger),
        sa.Column("last_uid", sa.BigInteger, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", Time),
        sa.Column("polled_at", Time),
    )


def downgrade() -> None:
    op.drop_table("mailboxes")
