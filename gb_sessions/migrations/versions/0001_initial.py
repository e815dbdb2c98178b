"""The seed's tables: sessions, messages, session_state, bots, bot_memory, users, user_identities.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("username", sa.String(200), nullable=False, unique=True),
        sa.Column("email", sa.String(320)),
        sa.Column("password_hash", sa.Text),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
    )
    op.create_index("ix_user_identities_channel_address", "user_identities", ["channel", "address"], unique=True)
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("bot_id", sa.String(100), sa.ForeignKey("bots.id"), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("address", sa.String(320)),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("last_activity", Time, nullable=False),
        sa.Column("expires_at", Time),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_index("ix_sessions_last_activity", "sessions", ["last_activity"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_index("ix_sessions_bot_channel_address", "sessions", ["bot_id", "channel", "address"])
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("timestamp", Time, nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
    )
    op.create_index("ix_messages_session_id_id", "messages", ["session_id", "id"])
    op.create_table(
        "session_state",
        sa.Column("session_id", sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("variables", Json, nullable=False),
        sa.Column("context", Json, nullable=False),
        sa.Column("dialog", Json),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "bot_memory",
        sa.Column("bot_id", sa.String(100), sa.ForeignKey("bots.id"), primary_key=True),
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("value", Json),
    )


def downgrade() -> None:
    for table in ("bot_memory", "session_state", "messages", "sessions", "user_identities", "users", "bots"):
        op.drop_table(table)
