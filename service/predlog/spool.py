"""A durable local spool for prediction-log rows: a SQLite file next to the app.

Every log row is written here before the service answers; a flusher moves rows to the real
database and deletes them only after they are committed there. Rows carry their own UUID, so
writing one twice (two workers, a crash between insert and delete) is harmless.

A spool belongs to one database: the first service to open it writes that database's identity
into it, and a service logging to another database refuses to use it (``SpoolOwnerError``),
so two services in one directory never deliver each other's rows.

A row the database refuses for good (a poison row) is moved to the ``quarantined_rows`` table of
the same file, with the database's error: kept, counted and listed for admins, out of the way
of the rows behind it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import sqlite

from service.db.engine import apply_sqlite_pragmas

_metadata = MetaData()
_rows = Table(
    "spooled_rows",
    _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("payload", Text, nullable=False),
    sqlite_autoincrement=True,  # seqs are never reused: a flusher may delete only the rows it read
)
_meta = Table(
    "spool_meta",
    _metadata,
    Column("key", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)
_quarantine = Table(
    "quarantined_rows",
    _metadata,
    Column("seq", Integer, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("quarantined_at", String(32), nullable=False),
)
OWNER_KEY = "database"
MAX_ERROR_CHARS = 1000


class SpoolOwnerError(RuntimeError):
    """The spool file holds rows for another database than the one this service logs to."""


class Spool:
    """Append-only queue of JSON rows in a SQLite file, safe across threads and processes."""

    def __init__(self, path: str | Path, owner: str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{self.path}", connect_args={"timeout": 30, "check_same_thread": False})
        # One writer at a time within the process: SQLite's busy handler would otherwise make a writer
        # that meets another's lock sleep for whole milliseconds at a time (other processes still can).
        self._writing = threading.Lock()
        event.listen(self.engine, "connect", apply_sqlite_pragmas)
        _metadata.create_all(self.engine)
        if owner is not None:
            self._claim(owner)

    def _claim(self, owner: str) -> None:
        """Mark the spool as ``owner``'s if it is no one's yet; raise SpoolOwnerError if it is another's."""
        with self.engine.begin() as connection:
            connection.execute(
                sqlite.insert(_meta).on_conflict_do_nothing(index_elements=["key"]),
                {"key": OWNER_KEY, "value": owner},
            )
            stored = connection.execute(select(_meta.c.value).where(_meta.c.key == OWNER_KEY)).scalar_one()
        if stored != owner:
            self.engine.dispose()
            raise SpoolOwnerError(
                f"the spool {self.path} holds log rows for {stored}, not for {owner}: "
                "give this service a spool of its own (DIGITIFY_SPOOL_PATH)"
            )

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store rows durably (committed before this returns)."""
        if not rows:
            return
        payloads = [{"payload": json.dumps(row, default=str)} for row in rows]
        with self._writing, self.engine.begin() as connection:
            connection.execute(insert(_rows), payloads)

    def peek(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Return the oldest ``limit`` rows as ``(seq, row)`` pairs, left in the spool."""
        with self.engine.connect() as connection:
            result = connection.execute(select(_rows.c.seq, _rows.c.payload).order_by(_rows.c.seq).limit(limit))
            return [(seq, json.loads(payload)) for seq, payload in result]

    def remove(self, seqs: Sequence[int]) -> None:
        """Delete rows that have reached the database."""
        if not seqs:
            return
        with self._writing, self.engine.begin() as connection:
            connection.execute(delete(_rows).where(_rows.c.seq.in_(list(seqs))))

    def backlog(self) -> int:
        """How many rows wait, at most (from the oldest and newest sequence numbers: no table scan)."""
        with self.engine.connect() as connection:
            oldest, newest = connection.execute(select(func.min(_rows.c.seq), func.max(_rows.c.seq))).one()
        return 0 if oldest is None else int(newest) - int(oldest) + 1

    def quarantine(self, seq: int, row: dict[str, Any], error: str) -> None:
        """Move one spooled row to the quarantine, with the reason the database gave."""
        with self._writing, self.engine.begin() as connection:
            connection.execute(
                sqlite.insert(_quarantine).on_conflict_do_nothing(index_elements=["seq"]),
                {
                    "seq": seq,
                    "payload": json.dumps(row, default=str),
                    "error": error[:MAX_ERROR_CHARS],
                    "quarantined_at": datetime.now(UTC).isoformat(),
                },
            )
            connection.execute(delete(_rows).where(_rows.c.seq == seq))

    def quarantined_count(self) -> int:
        """How many rows are in quarantine."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(_quarantine)).scalar_one())

    def quarantined(self, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` quarantined rows: sequence number, time, error and the row itself."""
        statement = select(_quarantine).order_by(_quarantine.c.seq.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [
                {
                    "seq": item.seq,
                    "quarantined_at": item.quarantined_at,
                    "error": item.error,
                    "row": json.loads(item.payload),
                }
                for item in connection.execute(statement)
            ]

    def count(self) -> int:
        """How many rows wait to be flushed."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(_rows)).scalar_one())

    def close(self) -> None:
        """Release the file's connections."""
        self.engine.dispose()
