"""Engines and schema migrations for the prediction-log database (SQLite or PostgreSQL).

``DATABASE_URL`` may say ``postgresql://`` or ``postgres://``; both mean psycopg 3 here.
Migrations are Alembic's, applied from code at start-up (several workers may race: PostgreSQL
serializes them with an advisory lock, SQLite with its file lock and a retry).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x44494749  # "DIGI": the PostgreSQL advisory lock guarding migrations

logger = logging.getLogger(__name__)


def normalize_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver; leave others alone."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(normalize_url(url)).get_backend_name() == "sqlite"


def database_identity(url: str, home: Path | None = None) -> str:
    """Name the database ``url`` points at, without its password.

    A SQLite file is named by its absolute path, or relative to ``home`` (the spool's folder) when
    it lies in that folder, so a checkout moved with its spool and log keeps the same name.
    """
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        return parsed.render_as_string(hide_password=True)
    database = parsed.database
    if not database or database == ":memory:":
        return "sqlite://"
    path = Path(database).resolve()
    if home is not None and path.parent == home.resolve():
        return f"sqlite:///./{path.name}"
    return f"sqlite:///{path}"


def make_engine(url: str, connect_timeout: int = 3) -> Engine:
    """Create an engine that survives database restarts (pre-ping) and fails fast when one is down."""
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", apply_sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": connect_timeout},
    )


def apply_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Use WAL (readers never block the writer), a generous busy timeout, and commits that survive power loss.

    ``synchronous=FULL`` syncs the write-ahead log at every commit, so a row the spool acknowledged
    (or the log database committed before the spool forgot it) is on disk, not in the OS cache;
    ``NORMAL`` could lose the last commits on a power cut. Measured cost: README, "Security".
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Make a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Make an Alembic config pointing at the service's migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine, attempts: int = 3) -> None:
    """Bring the schema to the newest revision; safe to call from several processes at once."""
    for attempt in range(1, attempts + 1):
        try:
            _upgrade(engine)
            return
        except Exception:
            if attempt == attempts or not is_sqlite(str(engine.url)):
                raise
            logger.info("migration raced another worker; retrying")
            time.sleep(0.5 * attempt)


def _upgrade(engine: Engine) -> None:
    """Run ``alembic upgrade head`` on one connection (under an advisory lock on PostgreSQL)."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
