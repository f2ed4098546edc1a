"""Forget kept images once their retention is over, unless a person's correction still needs them.

A kept image expires when every prediction that read it is older than ``DIGITIFY_IMAGE_RETENTION_DAYS``
and no correction of any of those predictions is pending or accepted (those are training data; a
rejected one is not). An image with no prediction in the database yet (its row still waits in the
spool) is left alone, and no sweep runs while rows wait in the spool at all: a fresh prediction of
an old image may be among them. An image kept again after the sweep began is not deleted (local
stores). The sweeper runs in a daemon thread of each worker, at start-up and every
``SWEEP_SECONDS``; it asks the database only about the images the store holds, so its work grows with
what is kept, not with the length of the log. After the images, it prunes the log itself
(``service.predlog.retention``, ``DIGITIFY_LOG_RETENTION_DAYS``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from service.corrections.image_store import ImageStore
from service.db.tables import CORRECTION_REJECTED, OUTCOME_OK, Correction, PredictionLog, utcnow
from service.predlog.retention import prune_log

SWEEP_SECONDS = 3600.0
QUERY_CHUNK = 500  # image hashes per query (well under every database's bound-parameter limit)

logger = logging.getLogger(__name__)


def expired_images(session: Session, cutoff: datetime, kept: Sequence[str]) -> list[str]:
    """The ``kept`` hashes whose predictions are all older than ``cutoff`` and that no live correction needs."""
    log, newer, corrected = PredictionLog, aliased(PredictionLog), aliased(PredictionLog)
    still_read = exists().where(and_(newer.image_sha256 == log.image_sha256, newer.created_at >= cutoff))
    still_needed = (
        exists()
        .where(corrected.image_sha256 == log.image_sha256)
        .where(Correction.log_id == corrected.id)
        .where(Correction.status != CORRECTION_REJECTED)
    )
    expired: set[str] = set()
    for start in range(0, len(kept), QUERY_CHUNK):
        chunk = list(kept[start : start + QUERY_CHUNK])
        statement = select(log.image_sha256).where(
            log.image_sha256.in_(chunk), log.outcome == OUTCOME_OK, log.created_at < cutoff, ~still_read, ~still_needed
        )
        expired.update(session.scalars(statement.distinct()))
    return sorted(expired)


def purge(store: ImageStore, sessions: sessionmaker[Session], days: int) -> int:
    """Delete the kept images expired ``days`` after their last prediction; return how many were removed."""
    began = time.time()
    cutoff = utcnow() - timedelta(days=days)
    kept = store.hashes()
    if not kept:
        return 0
    with sessions() as session:
        hashes = expired_images(session, cutoff, kept)
    removed = store.delete(hashes, unless_kept_since=began)  # kept again meanwhile: a new prediction
    if removed:
        logger.info("image retention: removed %d images last read before %s", removed, cutoff.isoformat())
    return removed


class RetentionSweeper:
    """A daemon thread that purges expired images now and then; retention 0 days means keep them forever."""

    def __init__(
        self,
        store: ImageStore,
        sessions: sessionmaker[Session],
        days: int,
        ready: Callable[[], None],
        spooled: Callable[[], int] = lambda: 0,
        log_days: int = 0,
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.days = days
        self.log_days = log_days
        self.ready = ready
        self.spooled = spooled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sweeping (once); nothing to do when images and the log are kept forever."""
        if (self.days > 0 or self.log_days > 0) and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="digitify-image-retention", daemon=True)
            self._thread.start()

    def sweep(self) -> int:
        """Purge once, unless log rows still wait in the spool (then later); return how many images were removed."""
        self.ready()
        if self.spooled():
            logger.info("image retention: log rows wait in the spool; sweeping later")
            return 0
        removed = purge(self.store, self.sessions, self.days) if self.days > 0 else 0
        prune_log(self.sessions, self.log_days)
        return removed

    def _run(self) -> None:
        """Sweep at start and every ``SWEEP_SECONDS``; a failed sweep is tried again next time."""
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception as error:
                logger.warning("image retention sweep failed, trying again later: %s", error)
            self._stop.wait(SWEEP_SECONDS)

    def stop(self) -> None:
        """Stop sweeping."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
