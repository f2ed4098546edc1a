"""The live dashboard's figures, read whole from the database and Redis each time.

Over the last ``WINDOW_MINUTES`` minutes: predictions per minute, latency percentiles, the
shares of rejected inputs and of low-confidence answers; the corrections queue's size and its
newest items; the async tasks queued and running (``None`` while Redis cannot be reached). Since
each update is a full reading, not an increment, nothing is lost to a missed event or a
reconnect: the next update has every figure right.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from service.corrections.queue import CorrectionFilter, query_corrections
from service.db.queries import recent
from service.db.tables import CORRECTION_PENDING, utcnow
from service.tasks.queue import TaskQueue, TasksUnavailableError

WINDOW_MINUTES = 15
NEWEST_CORRECTIONS = 5
LIVE, POLLING = "live", "polling"
Mode = Literal["live", "polling"]


class MinuteCount(BaseModel):
    """The predictions logged in the minute starting at ``minute`` (UTC)."""

    minute: str
    count: int


class PendingCorrection(BaseModel):
    """One correction waiting for review."""

    log_id: str
    predicted_text: str | None
    corrected_text: str
    corrected_by: str
    corrected_at: str


class TaskCounts(BaseModel):
    """Async tasks waiting for a worker, and being read."""

    queued: int
    running: int


class LiveFigures(BaseModel):
    """What the live dashboard shows; ``mode`` says whether events drive it or it polls (no Redis)."""

    generated_at: str
    mode: Mode
    window_minutes: int
    per_minute: list[MinuteCount]
    predictions: int
    rejected_share: float | None
    low_confidence_share: float | None
    low_confidence_threshold: float
    latency_ms: dict[str, float | None]
    corrections_pending: int
    newest_corrections: list[PendingCorrection]
    tasks: TaskCounts | None


def minute_starts(now: datetime, count: int = WINDOW_MINUTES) -> list[datetime]:
    """The starts of the last ``count`` minutes up to ``now``'s, oldest first."""
    current = now.replace(second=0, microsecond=0)
    return [current - timedelta(minutes=count - 1 - index) for index in range(count)]


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is no whole."""
    return part / whole if whole else None


def read_figures(
    sessions: sessionmaker[Session], tasks: TaskQueue, low_confidence: float, mode: Mode, now: datetime | None = None
) -> LiveFigures:
    """Read the figures now (blocking: the database, then Redis)."""
    now = now or utcnow()
    minutes = minute_starts(now)
    with sessions() as session:
        window = recent(session, minutes, low_confidence)
        pending_only = CorrectionFilter(status=CORRECTION_PENDING)
        pending, newest = query_corrections(session, pending_only, True, 1, NEWEST_CORRECTIONS)
    try:
        counts = tasks.active()
        task_counts: TaskCounts | None = TaskCounts(queued=counts["queued"], running=counts["running"])
    except TasksUnavailableError:
        task_counts = None
    return LiveFigures(
        generated_at=now.isoformat() + "Z",
        mode=mode,
        window_minutes=WINDOW_MINUTES,
        per_minute=[
            MinuteCount(minute=start.isoformat() + "Z", count=count)
            for start, count in zip(minutes, window["per_minute"], strict=True)
        ],
        predictions=window["total"],
        rejected_share=share(window["rejected"], window["total"]),
        low_confidence_share=share(window["low_confidence"], window["ok"]),
        low_confidence_threshold=low_confidence,
        latency_ms=window["latency_ms"],
        corrections_pending=pending,
        newest_corrections=[
            PendingCorrection(
                log_id=correction.log_id,
                predicted_text=prediction.text,
                corrected_text=correction.text,
                corrected_by=correction.corrected_by,
                corrected_at=correction.created_at.isoformat() + "Z",
            )
            for correction, prediction in newest
        ],
        tasks=task_counts,
    )
