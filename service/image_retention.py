"""Forget kept images once their retention is over, unless a person's correction still needs them.

An image expires when every prediction that read it is older than ``DIGITIFY_IMAGE_RETENTION_DAYS``
and no correction of any of those predictions is pending or accepted (those are training data; a
rejected one is not). The sweeper runs in a daemon thread of each worker: at start-up over the whole
log, then every ``SWEEP_SECONDS`` over the predictions that crossed the cutoff since its last sweep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from service.image_store import ImageStore
from service.tables import CORRECTION_REJECTED, OUTCOME_OK, Correction, PredictionLog, utcnow

SWEEP_SECONDS = 3600.0

logger = logging.getLogger(__name__)


def expired_images(session: Session, cutoff: datetime, since: datetime | None = None) -> list[str]:
    """Hashes of the kept images whose predictions are all older than ``cutoff`` and no live correction needs.

    ``since`` limits the search to predictions made at or after it (the previous sweep's cutoff).
    """
    log, newer, corrected = PredictionLog, aliased(PredictionLog), aliased(PredictionLog)
    still_read = exists().where(and_(newer.image_sha256 == log.image_sha256, newer.created_at >= cutoff))
    still_needed = (
        exists()
        .where(corrected.image_sha256 == log.image_sha256)
        .where(Correction.log_id == corrected.id)
        .where(Correction.status != CORRECTION_REJECTED)
    )
    conditions = [log.image_sha256.is_not(None), log.outcome == OUTCOME_OK, log.created_at < cutoff]
    if since is not None:
        conditions.append(log.created_at >= since)
    statement = select(log.image_sha256).where(*conditions, ~still_read, ~still_needed).distinct()
    return sorted(session.scalars(statement))


def purge(store: ImageStore, sessions: sessionmaker[Session], days: int, since: datetime | None = None) -> datetime:
    """Delete the images expired ``days`` after their last prediction; return the cutoff used."""
    cutoff = utcnow() - timedelta(days=days)
    with sessions() as session:
        hashes = expired_images(session, cutoff, since)
    removed = store.delete(hashes)
    if removed:
        logger.info("image retention: removed %d images last read before %s", removed, cutoff.isoformat())
    return cutoff


class RetentionSweeper:
    """A daemon thread that purges expired images now and then; retention 0 days means keep them forever."""

    def __init__(
        self, store: ImageStore, sessions: sessionmaker[Session], days: int, ready: Callable[[], None]
    ) -> None:
        self.store = store
        self.sessions = sessions
        self.days = days
        self.ready = ready
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._since: datetime | None = None

    def start(self) -> None:
        """Start sweeping (once); nothing to do when images are kept forever."""
        if self.days > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="digitify-image-retention", daemon=True)
            self._thread.start()

    def sweep(self) -> None:
        """Purge once, from where the last sweep stopped."""
        self.ready()
        self._since = purge(self.store, self.sessions, self.days, self._since)

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
