"""Read the accepted corrections from the service's database (SQLite or PostgreSQL), read-only.

The service owns the schema (``corrections`` joined to ``prediction_logs`` by ``log_id``); the
pipeline never imports the service, so it reads the two tables with SQLAlchemy Core. Every way the
database can be unusable ends in :class:`CorrectionsDatabaseError`, whose message names the
database without its password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import DateTime, Engine, String, Text, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from pipelines.common.corrections.database_url import display_url, normalize_url

ACCEPTED = "accepted"
TABLES = ("corrections", "prediction_logs")
CONNECT_TIMEOUT_S = 10

ACCEPTED_QUERY = text(
    """
    SELECT c.log_id, c.text, c.reviewed_at, c.image_uri, p.image_sha256
    FROM corrections AS c JOIN prediction_logs AS p ON p.id = c.log_id
    WHERE c.status = :status
    ORDER BY c.log_id
    """
).columns(log_id=String, text=String, reviewed_at=DateTime, image_uri=Text, image_sha256=String)


class CorrectionsDatabaseError(RuntimeError):
    """The database cannot be read; the message says which one and why, in one line."""


@dataclass(frozen=True)
class AcceptedCorrection:
    """One accepted correction: the prediction it corrects, the text, and where its image is."""

    log_id: str
    text: str
    reviewed_at: datetime | None
    image_uri: str | None
    image_sha256: str | None


def open_engine(url: str) -> Engine:
    """An engine on ``url`` that fails fast; a SQLite file must already exist (never create an empty one)."""
    shown = display_url(url)
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError as exc:
        raise CorrectionsDatabaseError(f"{url!r} is not a database URL ({exc})") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or not Path(database).is_file():
            raise CorrectionsDatabaseError(f"no database file at {shown}: has the service run there?")
        return create_engine(parsed)
    try:
        return create_engine(parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    except NoSuchModuleError as exc:
        raise CorrectionsDatabaseError(f"no driver for {shown} ({exc})") from exc


def read_accepted(url: str) -> list[AcceptedCorrection]:
    """Every accepted correction in the database at ``url``, ordered by ``log_id``.

    Raises CorrectionsDatabaseError when the database is unreachable or holds no corrections table.
    """
    shown = display_url(url)
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            for table in TABLES:
                if table not in present:
                    raise CorrectionsDatabaseError(f"no {table} table in {shown}: has the service run there?")
            rows = connection.execute(ACCEPTED_QUERY, {"status": ACCEPTED}).all()
    except SQLAlchemyError as exc:
        first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise CorrectionsDatabaseError(f"cannot read the database {shown}: {first_line}") from exc
    finally:
        engine.dispose()
    return [AcceptedCorrection(row.log_id, row.text, row.reviewed_at, row.image_uri, row.image_sha256) for row in rows]
