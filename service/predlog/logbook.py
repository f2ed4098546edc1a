"""The prediction log: rows go to the durable spool at once and reach the database in the background.

``Logbook.record_async`` returns once a row is safe on local disk, so an answer is never held up
by, or lost to, a database outage. Concurrent callers share one spool commit (group commit): one
writer thread (a ``ThreadBatcher``) writes the rows of every caller waiting in one transaction and
wakes each event loop once per commit, so under load the spool's fsync is paid once per group
rather than once per prediction, and no worker thread is held per request. The rows are built by
``service.predlog.rows``. The rows of readings are spooled by the
inference process that read them (``service.prediction.process``), which the worker then counts
(``count_spooled``); what goes through ``record_async`` is the refusals without a reading. A
daemon thread flushes the spool in batches with an idempotent insert (``ON CONFLICT DO NOTHING``
on the row id) and retries with back-off while the database is unreachable; after a wake-up it
lingers a quarter of a second so the rows of many predictions reach the database in one insert
and one commit.

When the database refuses a batch's data (a data error, a violated constraint, a malformed row),
the rows are inserted one by one and those it refuses are quarantined in the spool (kept, counted,
listed for admins), so one poison row never stops the others. ``status`` says how full the
spool is and whether the flusher is stuck; the service refuses new predictions (503) while the
spool is at its cap, and reports a full spool or a stuck flusher as not ready. After a flush that
moved rows, ``on_flushed`` hears how many (the live dashboard's event, ``service.live.events``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, exc
from sqlalchemy.dialects import postgresql, sqlite

from service.batching.thread_batcher import ThreadBatcher
from service.db.tables import PredictionLog
from service.predlog.rows import from_spool_row, to_spool_row
from service.predlog.spool import Spool

FLUSH_BATCH = 500
WRITER_MAX_ROWS = 10_000  # rows of waiting callers the spool writer puts in one commit
FLUSH_LINGER_SECONDS = 0.25  # after a wake-up, let rows gather so they reach the database in one insert
IDLE_WAIT_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0
STUCK_SECONDS = 300.0
POISON = (exc.DataError, exc.IntegrityError, ValueError, KeyError, TypeError)

logger = logging.getLogger(__name__)


def poison(error: BaseException) -> bool:
    """Whether an error says the rows themselves are unacceptable (bad data, a violated constraint, a broken row).

    Anything else (no connection, a lock, a missing table) is the database's state: the rows are
    tried again later, and a flusher that stays stuck on it shows in readiness.
    """
    return isinstance(error, POISON) and not getattr(error, "connection_invalidated", False)


@dataclass(frozen=True)
class LogbookStatus:
    """How the prediction log is doing, for readiness, metrics and admins."""

    spooled_rows: int
    max_rows: int
    quarantined_rows: int
    flusher_alive: bool
    seconds_since_progress: float

    @property
    def full(self) -> bool:
        """Whether the spool reached its cap (new predictions are refused)."""
        return self.spooled_rows >= self.max_rows

    @property
    def stuck(self) -> bool:
        """Whether the flusher is dead, or rows have waited ``STUCK_SECONDS`` without any reaching the database."""
        return not self.flusher_alive or (self.spooled_rows > 0 and self.seconds_since_progress > STUCK_SECONDS)


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

    def __init__(
        self, spool: Spool, engine: Engine, ensure_schema: Callable[[], None], max_rows: int = 1_000_000
    ) -> None:
        self.spool = spool
        self.engine = engine
        self.ensure_schema = ensure_schema
        self.max_rows = max_rows
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._progress_at = time.monotonic()
        self.observer: Callable[[LogbookStatus], None] | None = None
        self.on_flushed: Callable[[int], None] | None = None
        self._count_lock = threading.Lock()
        self.commits = 0  # spool commits of the writer thread
        self._spooled = spool.backlog()  # kept in memory: ``full`` is asked on every prediction
        self._writer: ThreadBatcher[dict[str, Any], None] | None = None
        self._flushing = threading.Lock()  # one flush at a time in this process

    def start_writer(self) -> None:
        """Start the spool writer that ``record_async`` hands rows to (once)."""
        if self._writer is None:
            self._writer = ThreadBatcher(self._append, max_batch=WRITER_MAX_ROWS, name="digitify-spool-writer")

    async def record_async(self, rows: Sequence[dict[str, Any]]) -> None:
        """``record`` for an event loop: the rows of every caller waiting go in one commit of one writer thread.

        No worker thread is held per caller, and each loop is woken once per commit.
        """
        if self._writer is None:
            raise RuntimeError("the spool writer is not started")
        await self._writer.run(list(rows))

    def count_spooled(self, rows: int) -> None:
        """Count rows another process (an inference process) committed to this log's spool, and wake the flusher."""
        with self._count_lock:
            self._spooled += rows
        self._wake.set()

    def _append(self, rows: list[dict[str, Any]]) -> list[None]:
        """The writer thread's call: one durable commit of all the rows waiting."""
        self.record(rows)
        self.commits += 1
        return [None] * len(rows)

    def record(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write rows to the spool in one transaction (durable when this returns, or raises) and wake the flusher.

        The service writes through ``record_async`` (its writer thread calls this once per group).
        """
        spool_rows = [to_spool_row(row) for row in rows]
        self.spool.append(spool_rows)
        with self._count_lock:
            self._spooled += len(spool_rows)
        self._wake.set()

    def start(self) -> None:
        """Start the spool writer and the background flusher (once)."""
        self.start_writer()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="digitify-log-flusher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the spool writer once what it holds is written, then the flusher after a last flush attempt."""
        if self._writer is not None:
            self._writer.close(timeout)
            self._writer = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def flush(self) -> int:
        """Move spooled rows to the database until the spool is empty; return how many moved (or were quarantined).

        One flush at a time in this process: a second caller waits for the first, then flushes what is left.
        """
        with self._flushing:
            return self._flush()

    def flush_for_request(self, timeout: float = 10.0) -> None:
        """Bring rows spooled a moment ago into the database for a request that needs one (a correction).

        Requests asking together share one flush: a caller that finds a flush in progress (the
        flusher's or another request's) waits for it to end instead of starting another. Raises
        what the flush raises (the database is down); TimeoutError if a flush holds on past ``timeout``.
        """
        if self._flushing.acquire(blocking=False):
            try:
                self._flush()
            finally:
                self._flushing.release()
            return
        if not self._flushing.acquire(timeout=timeout):
            raise TimeoutError("the prediction log is still being flushed")
        self._flushing.release()

    def _flush(self) -> int:
        """``flush`` with the flush lock held."""
        moved = 0
        while True:
            batch = self.spool.peek(FLUSH_BATCH)
            if not batch:
                self._progress_at = time.monotonic()
                if moved and self.on_flushed is not None:
                    self.on_flushed(moved)
                return moved
            self.ensure_schema()
            try:
                insert_ignoring_duplicates(self.engine, [from_spool_row(row) for _, row in batch])
            except Exception as error:
                if not poison(error):
                    raise
                self._one_by_one(batch)
            else:
                self.spool.remove([seq for seq, _ in batch])
            moved += len(batch)
            self._progress_at = time.monotonic()

    def _one_by_one(self, batch: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Insert a refused batch row by row; quarantine each row the database refuses for good."""
        for seq, row in batch:
            try:
                insert_ignoring_duplicates(self.engine, [from_spool_row(row)])
            except Exception as error:
                if not poison(error):
                    raise
                logger.error("prediction log row %s refused by the database, quarantined: %s", row.get("id"), error)
                self.spool.quarantine(seq, row, f"{type(error).__name__}: {error}")
            else:
                self.spool.remove([seq])

    def full(self) -> bool:
        """Whether the spool holds ``max_rows`` rows or more (the service then refuses new predictions).

        Counted in memory: the rows this process spooled since the flusher last read the spool's
        size (after every flush attempt, at least once a second), so asking costs no query.
        """
        return self._spooled >= self.max_rows

    def _count_spooled(self) -> None:
        """Read the spool's size again (it also holds other workers' rows, and loses flushed ones)."""
        try:
            spooled = self.spool.backlog()
        except Exception as error:  # keep counting in memory; the flusher's own errors are reported
            logger.warning("could not read the spool's size: %s", error)
            return
        with self._count_lock:
            self._spooled = spooled

    def status(self) -> LogbookStatus:
        """The spool's fill, the quarantine's size and the flusher's health."""
        return LogbookStatus(
            spooled_rows=self.spool.backlog(),
            max_rows=self.max_rows,
            quarantined_rows=self.spool.quarantined_count(),
            flusher_alive=self._thread is not None and self._thread.is_alive(),
            seconds_since_progress=time.monotonic() - self._progress_at,
        )

    @property
    def healthy(self) -> bool:
        """False while the last flush attempt failed (the database is unreachable)."""
        return self._failures == 0

    def _run(self) -> None:
        """Flush shortly after being woken (or every second), in batches; back off while the database is down."""
        while not self._stop.is_set():
            if self._wake.wait(IDLE_WAIT_SECONDS):
                self._stop.wait(FLUSH_LINGER_SECONDS)
            self._wake.clear()
            try:
                moved = self.flush()
            except Exception as exc:
                self._count_spooled()
                self._failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 0.25 * 2 ** min(self._failures, 5))
                if self._failures == 1:
                    logger.warning("prediction log database unavailable, rows stay spooled: %s", exc)
                self._report()
                self._stop.wait(delay)
                continue
            if self._failures:
                logger.warning("prediction log database is back after %d failed flushes", self._failures)
                self._failures = 0
            if moved:
                logger.debug("flushed %d prediction log rows", moved)
            self._count_spooled()
            self._report()

    def _report(self) -> None:
        """Hand the current status to the observer (metrics), if any; never let it stop the flusher."""
        if self.observer is None:
            return
        try:
            self.observer(self.status())
        except Exception as error:
            logger.warning("could not report the prediction log's status: %s", error)
