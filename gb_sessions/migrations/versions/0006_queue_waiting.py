"""The channel queues' indexes for their claims: partial indexes of the waiting rows (a claim's
cost no longer grows with the rows already handled), the whole-table status indexes they
replace dropped, and room left in each page on PostgreSQL (fillfactor 70) so that a claim's
update, which changes no indexed column, stays on its page without touching the indexes (HOT).

Revision ID: 0006_queue_waiting
Revises: 0005_channels
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_queue_waiting"
down_revision = "0005_channels"
branch_labels = None
depends_on = None

QUEUES = (("inbox", "new", ["bot_id", "channel", "address"]), ("outbox", "pending", ["channel", "address"]))
FILLFACTOR = 70


def upgrade() -> None:
    for table, waiting, address in QUEUES:
        where = sa.text(f"status = '{waiting}'")
        op.create_index(f"ix_{table}_{waiting}", table, ["id"], postgresql_where=where, sqlite_where=where)
        op.create_index(f"ix_{table}_{waiting}_address", table, [*address, "id"], postgresql_where=where,
                        sqlite_where=where)
        op.drop_index(f"ix_{table}_status_next", table)
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")
    op.drop_index("ix_outbox_address", "outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_address", "outbox", ["channel", "address", "id"])
    for table, waiting, _ in QUEUES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        op.create_index(f"ix_{table}_status_next", table, ["status", "next_attempt_at"])
        op.drop_index(f"ix_{table}_{waiting}_address", table)
        op.drop_index(f"ix_{table}_{waiting}", table)
