"""Alembic environment: runs on the connection `campaigns.db` hands over (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context

from campaigns.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `python main.py db upgrade`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
