"""Alembic environment: migrates the connection the service hands over, or DATABASE_URL."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from service.core.config import default_database_url
from service.db.engine import normalize_url
from service.db.tables import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name)


def run_migrations() -> None:
    """Run the migrations on the given connection, or on a fresh one to DATABASE_URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = normalize_url(os.environ.get("DATABASE_URL") or default_database_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as fresh:
        _migrate(fresh)


def _migrate(connection: Connection) -> None:
    """Configure the context on ``connection`` and run the pending migrations."""
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations()
