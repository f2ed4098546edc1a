"""Corrections of predictions: people say what a number really was, admins accept or reject it.

Only the person who made a prediction (or an admin) may correct it; a new correction of the same
prediction replaces the text and goes back to ``pending``. An accepted correction whose image was
kept is training data (``python -m pipelines.corrections`` exports it). The queries here are
portable between SQLite and PostgreSQL and take the same filters as the log viewer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from models.charset import CHARSET, invalid_chars
from service.accounts.users import Account
from service.db.queries import LogFilter
from service.db.tables import (
    CORRECTION_PENDING,
    CORRECTION_REJECTED,
    CORRECTION_STATUSES,
    OUTCOME_OK,
    Correction,
    PredictionLog,
    utcnow,
)

MAX_TEXT = 128


class CorrectionError(ValueError):
    """A correction that cannot be taken; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CorrectionFilter:
    """Which corrections to list: their own fields, and the log filter over the predictions they correct."""

    status: str | None = None
    corrected_by: str | None = None
    predictions: LogFilter = field(default_factory=LogFilter)

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter as SQL expressions with bound parameters (over Correction joined to PredictionLog)."""
        conditions = self.predictions.conditions()
        if self.status is not None:
            conditions.append(Correction.status == self.status)
        if self.corrected_by is not None:
            conditions.append(Correction.corrected_by == self.corrected_by)
        return conditions


def checked_text(text: str) -> str:
    """The number a person typed, without surrounding spaces; raise CorrectionError (422) unless it is readable."""
    value = text.strip()
    if not value:
        raise CorrectionError("type the number the image shows (the correction is empty)", 422)
    if len(value) > MAX_TEXT:
        raise CorrectionError(f"the number is {len(value)} characters long; at most {MAX_TEXT}", 422)
    bad = invalid_chars(value)
    if bad:
        raise CorrectionError(
            f"the number may hold only the characters {CHARSET} (^ before a raised exponent, as in 6.02×10^23), "
            f"not {' '.join(repr(c) for c in bad)}",
            422,
        )
    return value


def submit(
    session: Session,
    account: Account,
    log_id: str,
    text: str,
    image_uri: Callable[[str], str | None],
) -> tuple[Correction, PredictionLog, bool]:
    """Record ``account``'s correction of prediction ``log_id``; return it, the prediction and whether it is new.

    ``image_uri`` says where the prediction's image (by its hash) is kept, or None when it is not.
    Raises CorrectionError: 404 for an unknown prediction, 403 for someone else's, 409 for a refused input.
    """
    value = checked_text(text)
    prediction = session.get(PredictionLog, log_id)
    if prediction is None:
        raise CorrectionError(f"no prediction has the log id {log_id!r}", 404)
    if prediction.username != account.username and not account.is_admin:
        raise CorrectionError("only the person who made this prediction (or an admin) can correct it", 403)
    if prediction.outcome != OUTCOME_OK:
        raise CorrectionError("this input was refused, nothing was read: there is nothing to correct", 409)
    correction = session.get(Correction, log_id)
    created = correction is None
    if correction is None:
        correction = Correction(log_id=log_id)
        session.add(correction)
    correction.text = value
    correction.corrected_by = account.username
    correction.created_at = utcnow()
    correction.status = CORRECTION_PENDING
    correction.reviewed_by = None
    correction.reviewed_at = None
    kept = image_uri(prediction.image_sha256) if prediction.image_sha256 else None
    correction.image_uri = kept or correction.image_uri
    session.commit()
    return correction, prediction, created


def review(
    session: Session, admin: Account, log_id: str, status: str, seen_text: str
) -> tuple[Correction, PredictionLog]:
    """Accept or reject the correction of ``log_id`` that reads ``seen_text`` (what the admin saw).

    Raises CorrectionError: 404 when there is none, 409 when it reads otherwise now (changed after
    the admin saw it: nothing is decided). The row is locked while it is checked and decided.
    """
    found = session.execute(
        select(Correction, PredictionLog)
        .join(PredictionLog, Correction.log_id == PredictionLog.id)
        .where(Correction.log_id == log_id)
        .with_for_update(of=Correction)
    ).one_or_none()
    if found is None:
        raise CorrectionError(f"no correction of the prediction {log_id!r}", 404)
    correction, prediction = found
    if correction.text != seen_text.strip():
        session.rollback()
        raise CorrectionError(
            f"the correction now reads {correction.text!r}, not {seen_text!r}: it changed; review it again", 409
        )
    correction.status = status
    correction.reviewed_by = admin.username
    correction.reviewed_at = utcnow()
    session.commit()
    return correction, prediction


def query_corrections(
    session: Session, correction_filter: CorrectionFilter, descending: bool, page: int, page_size: int
) -> tuple[int, list[tuple[Correction, PredictionLog]]]:
    """Return ``(total matching corrections, the requested page of them with their predictions)``, by time."""
    conditions = correction_filter.conditions()
    joined = select(func.count()).select_from(Correction).join(PredictionLog, Correction.log_id == PredictionLog.id)
    total = session.scalar(joined.where(and_(*conditions)) if conditions else joined) or 0
    order = Correction.created_at.desc() if descending else Correction.created_at.asc()
    tie_break = Correction.log_id.desc() if descending else Correction.log_id.asc()
    statement = select(Correction, PredictionLog).join(PredictionLog, Correction.log_id == PredictionLog.id)
    if conditions:
        statement = statement.where(and_(*conditions))
    rows = session.execute(statement.order_by(order, tie_break).offset((page - 1) * page_size).limit(page_size))
    return int(total), [(correction, prediction) for correction, prediction in rows]


def corrections_of(session: Session, log_ids: Sequence[str]) -> dict[str, Correction]:
    """The corrections of the given predictions, by log id (predictions nobody corrected are absent)."""
    if not log_ids:
        return {}
    return {c.log_id: c for c in session.scalars(select(Correction).where(Correction.log_id.in_(list(log_ids))))}


def image_url(sha256: str | None) -> str | None:
    """Where admins fetch a prediction's kept image (the route answers 404 when it was not kept)."""
    return f"/admin/images/{sha256}" if sha256 else None


def correction_item(correction: Correction, prediction: PredictionLog) -> dict[str, Any]:
    """A correction and the prediction it corrects, as JSON-ready data."""
    return {
        "log_id": correction.log_id,
        "predicted_text": prediction.text,
        "corrected_text": correction.text,
        "confidence": prediction.confidence,
        "username": prediction.username,
        "corrected_by": correction.corrected_by,
        "corrected_at": _iso(correction.created_at),
        "status": correction.status,
        "reviewed_by": correction.reviewed_by,
        "reviewed_at": _iso(correction.reviewed_at),
        "model_version": prediction.model_version,
        "predicted_at": _iso(prediction.created_at),
        "endpoint": prediction.endpoint,
        "image_sha256": prediction.image_sha256,
        "image_url": image_url(prediction.image_sha256) if correction.image_uri else None,
    }


def _iso(moment: datetime | None) -> str | None:
    """A stored naive-UTC time in ISO form with its zone."""
    return None if moment is None else moment.isoformat() + "Z"


def corrected_share(session: Session, log_filter: LogFilter) -> dict[str, Any]:
    """How many answered predictions people corrected (a correction not rejected), per model version and per day.

    This is the accuracy in the wild no offline test set gives: the share of readings someone said were wrong.
    """
    log = PredictionLog
    conditions = and_(*log_filter.conditions(), log.outcome == OUTCOME_OK)
    live = and_(Correction.log_id.is_not(None), Correction.status != CORRECTION_REJECTED)
    corrected = func.sum(case((live, 1), else_=0))
    counted = select(func.count(), corrected).select_from(log).outerjoin(Correction, Correction.log_id == log.id)
    day = func.date(log.created_at).label("day")

    def per(key: Any) -> list[tuple[Any, int, int]]:
        statement = counted.add_columns(key).where(conditions).group_by(key).order_by(key)
        return [(value, int(n), int(k or 0)) for n, k, value in session.execute(statement)]

    by_status = select(Correction.status, func.count()).join(log, Correction.log_id == log.id).where(conditions)
    statuses = {status: int(n) for status, n in session.execute(by_status.group_by(Correction.status))}
    predictions, fixed = session.execute(counted.where(conditions)).one()
    predictions, fixed = int(predictions), int(fixed or 0)
    return {
        "total": sum(statuses.values()),
        **{status: statuses.get(status, 0) for status in CORRECTION_STATUSES},
        "predictions": predictions,
        "corrected": fixed,
        "share": _share(fixed, predictions),
        "by_model_version": [
            {"model_version": version, "predictions": n, "corrected": k, "share": _share(k, n)}
            for version, n, k in per(log.model_version)
        ],
        "by_day": [
            {"day": str(value)[:10], "predictions": n, "corrected": k, "share": _share(k, n)}
            for value, n, k in per(day)
        ],
    }


def _share(part: int, whole: int) -> float:
    """``part / whole``, 0 when there is nothing to divide."""
    return part / whole if whole else 0.0
