"""Prune the prediction log: rows older than ``DIGITIFY_LOG_RETENTION_DAYS`` are deleted.

A row someone corrected stays whatever its age (the correction points at it, and an accepted one
is training data). Rows go in chunks of ``DELETE_CHUNK`` so a long-neglected log is pruned without
one huge transaction. The image retention sweeper (``service.corrections.retention``) calls this
after its own sweep; images expire by their rows, so the log is kept at least as long as images.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, sessionmaker

from service.db.tables import Correction, PredictionLog, utcnow

DELETE_CHUNK = 5000

logger = logging.getLogger(__name__)


def prune_log(sessions: sessionmaker[Session], days: int) -> int:
    """Delete log rows older than ``days`` that no correction points at; return how many (0 days: none)."""
    if days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    corrected = exists().where(Correction.log_id == PredictionLog.id)
    removed = 0
    while True:
        with sessions.begin() as session:
            ids = list(
                session.scalars(
                    select(PredictionLog.id).where(PredictionLog.created_at < cutoff, ~corrected).limit(DELETE_CHUNK)
                )
            )
            if not ids:
                break
            session.execute(delete(PredictionLog).where(PredictionLog.id.in_(ids)))
        removed += len(ids)
    if removed:
        logger.info("log retention: removed %d prediction rows older than %s", removed, cutoff.isoformat())
    return removed
