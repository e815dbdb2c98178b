"""kb vectors: a passage's embedding (float32, unit length) and the model that made it, for the
dense retrieval of a bot that configures an embeddings endpoint.

Revision ID: 0011_kb_vectors
Revises: 0010_knowledge
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_kb_vectors"
down_revision = "0010_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("kb_passages", sa.Column("vector", sa.LargeBinary))
    op.add_column("kb_passages", sa.Column("vector_model", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("kb_passages") as batch:
        batch.drop_column("vector_model")
        batch.drop_column("vector")
