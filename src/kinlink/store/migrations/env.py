"""Alembic environment: the connection is handed in by kinlink.store.schema (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from kinlink.store import all_models  # noqa: F401  (every table registered on Base.metadata)
from kinlink.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` run by hand: build the engine from the usual settings
    from kinlink.store.db import make_engine

    connection = make_engine(config.get_main_option("sqlalchemy.url") or None).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
