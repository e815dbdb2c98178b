"""Alembic environment: gb runs migrations on a connection it passes in (see database.migrate)."""

from alembic import context

from gb_sessions.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
