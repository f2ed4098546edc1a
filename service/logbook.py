"""The prediction log: rows go to the durable spool at once and reach the database in the background.

``Logbook.record`` returns once a row is safe on local disk, so an answer is never held up by,
or lost to, a database outage. A daemon thread flushes the spool in batches with an idempotent
insert (``ON CONFLICT DO NOTHING`` on the row id) and retries with back-off while the database
is unreachable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from service.spool import Spool
from service.tables import OUTCOME_OK, OUTCOME_REJECTED, PredictionLog, utcnow

FLUSH_BATCH = 500
IDLE_WAIT_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0

logger = logging.getLogger(__name__)


def log_row(
    *,
    log_id: str,
    username: str | None,
    endpoint: str,
    model_version: str,
    latency_ms: float,
    error: str | None = None,
    text: str | None = None,
    confidence: float | None = None,
    char_confidences: list[float] | None = None,
    batch_id: str | None = None,
    image_width: int | None = None,
    image_height: int | None = None,
    image_bytes: int | None = None,
    image_sha256: str | None = None,
) -> dict[str, Any]:
    """Build one prediction-log row; it is a rejection when ``error`` is given."""
    return {
        "id": log_id,
        "created_at": utcnow(),
        "username": username,
        "endpoint": endpoint,
        "batch_id": batch_id,
        "model_version": model_version,
        "outcome": OUTCOME_REJECTED if error is not None else OUTCOME_OK,
        "error": error,
        "text": text,
        "confidence": confidence,
        "char_confidences": char_confidences,
        "latency_ms": round(latency_ms, 3),
        "image_width": image_width,
        "image_height": image_height,
        "image_bytes": image_bytes,
        "image_sha256": image_sha256,
    }


def to_spool_row(row: dict[str, Any]) -> dict[str, Any]:
    """Make a log row JSON-ready (datetimes as ISO strings)."""
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}


def from_spool_row(row: dict[str, Any]) -> dict[str, Any]:
    """Turn a spooled row back into column values."""
    values = dict(row)
    values["created_at"] = datetime.fromisoformat(values["created_at"])
    return values


def insert_ignoring_duplicates(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Insert log rows; rows whose id is already there are skipped (flushes are idempotent)."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(PredictionLog).on_conflict_do_nothing(index_elements=["id"])
    elif dialect == "sqlite":
        statement = sqlite.insert(PredictionLog).on_conflict_do_nothing(index_elements=["id"])
    else:
        raise ValueError(f"unsupported database dialect {dialect!r}")
    with engine.begin() as connection:
        connection.execute(statement, list(rows))


class Logbook:
    """Durable prediction logging with a background flusher."""

    def __init__(self, spool: Spool, engine: Engine, ensure_schema: Callable[[], None]) -> None:
        self.spool = spool
        self.engine = engine
        self.ensure_schema = ensure_schema
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    def record(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write rows to the spool (durable when this returns) and wake the flusher."""
        self.spool.append([to_spool_row(row) for row in rows])
        self._wake.set()

    def start(self) -> None:
        """Start the background flusher (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="digitify-log-flusher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the flusher after a last flush attempt."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def flush(self) -> int:
        """Move spooled rows to the database until the spool is empty; return how many moved."""
        moved = 0
        while True:
            batch = self.spool.peek(FLUSH_BATCH)
            if not batch:
                return moved
            self.ensure_schema()
            insert_ignoring_duplicates(self.engine, [from_spool_row(row) for _, row in batch])
            self.spool.remove([seq for seq, _ in batch])
            moved += len(batch)

    @property
    def healthy(self) -> bool:
        """False while the last flush attempt failed (the database is unreachable)."""
        return self._failures == 0

    def _run(self) -> None:
        """Flush whenever woken (or every second); back off while the database is down."""
        while not self._stop.is_set():
            self._wake.wait(IDLE_WAIT_SECONDS)
            self._wake.clear()
            try:
                moved = self.flush()
            except Exception as exc:
                self._failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 0.25 * 2 ** min(self._failures, 5))
                if self._failures == 1:
                    logger.warning("prediction log database unavailable, rows stay spooled: %s", exc)
                self._stop.wait(delay)
                continue
            if self._failures:
                logger.warning("prediction log database is back after %d failed flushes", self._failures)
                self._failures = 0
            if moved:
                logger.debug("flushed %d prediction log rows", moved)
