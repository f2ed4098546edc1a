"""A durable local spool for prediction-log rows: a SQLite file next to the app.

Every log row is written here before the service answers; a flusher moves rows to the real
database and deletes them only after they are committed there. Rows carry their own UUID, so
writing one twice (two workers, a crash between insert and delete) is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, delete, event, func, insert, select

from service.database import apply_sqlite_pragmas

_metadata = MetaData()
_rows = Table(
    "spooled_rows",
    _metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("payload", Text, nullable=False),
    sqlite_autoincrement=True,  # seqs are never reused: a flusher may delete only the rows it read
)


class Spool:
    """Append-only queue of JSON rows in a SQLite file, safe across threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{self.path}", connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(self.engine, "connect", apply_sqlite_pragmas)
        _metadata.create_all(self.engine)

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store rows durably (committed before this returns)."""
        if not rows:
            return
        with self.engine.begin() as connection:
            connection.execute(insert(_rows), [{"payload": json.dumps(row, default=str)} for row in rows])

    def peek(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Return the oldest ``limit`` rows as ``(seq, row)`` pairs, left in the spool."""
        with self.engine.connect() as connection:
            result = connection.execute(select(_rows.c.seq, _rows.c.payload).order_by(_rows.c.seq).limit(limit))
            return [(seq, json.loads(payload)) for seq, payload in result]

    def remove(self, seqs: Sequence[int]) -> None:
        """Delete rows that have reached the database."""
        if not seqs:
            return
        with self.engine.begin() as connection:
            connection.execute(delete(_rows).where(_rows.c.seq.in_(list(seqs))))

    def count(self) -> int:
        """How many rows wait to be flushed."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(_rows)).scalar_one())

    def close(self) -> None:
        """Release the file's connections."""
        self.engine.dispose()
