"""Admin queries over the prediction log: filtered, sorted, paginated rows and summary statistics.

Every filter becomes a bound SQLAlchemy expression (no SQL is built from strings), sorting
is limited to a fixed set of columns, and the statistics are portable between SQLite and
PostgreSQL (histogram bins with CASE, percentiles by nearest rank with ORDER BY/OFFSET).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Numeric, Select, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from service.db.tables import OUTCOME_OK, PredictionLog

SortKey = Literal["created_at", "confidence", "latency_ms", "text", "username", "model_version"]
SORTABLE = {name: getattr(PredictionLog, name) for name in get_args(SortKey)}
HISTOGRAM_BINS = 10
PERCENTILES = (50, 95, 99)
TOP_GROUPS = 100


@dataclass(frozen=True)
class LogFilter:
    """Which log rows to look at; every field left None matches everything.

    ``min_value`` and ``max_value`` bound the reading's value (inclusive); a row without a value
    never matches a value bound. The stored values are exact decimal strings, compared as
    ``CAST(value AS NUMERIC)``: exact on PostgreSQL, as doubles on SQLite.
    """

    username: str | None = None
    text: str | None = None
    contains: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    since: datetime | None = None
    until: datetime | None = None
    model_version: str | None = None
    outcome: str | None = None
    endpoint: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """Return the filter as a list of SQL expressions with bound parameters."""
        log = PredictionLog
        conditions: list[ColumnElement[bool]] = []
        if self.username is not None:
            conditions.append(log.username == self.username)
        if self.text is not None:
            conditions.append(log.text == self.text)
        if self.contains is not None:
            conditions.append(log.text.contains(self.contains, autoescape=True))
        if self.min_confidence is not None:
            conditions.append(log.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            conditions.append(log.confidence <= self.max_confidence)
        if self.since is not None:
            conditions.append(log.created_at >= self.since)
        if self.until is not None:
            conditions.append(log.created_at < self.until)
        if self.model_version is not None:
            conditions.append(log.model_version == self.model_version)
        if self.outcome is not None:
            conditions.append(log.outcome == self.outcome)
        if self.endpoint is not None:
            conditions.append(log.endpoint == self.endpoint)
        if self.min_value is not None:
            conditions.append(cast(log.value, Numeric) >= self.min_value)
        if self.max_value is not None:
            conditions.append(cast(log.value, Numeric) <= self.max_value)
        return conditions


def _where(statement: Select[Any], conditions: list[ColumnElement[bool]]) -> Select[Any]:
    """Apply ``conditions`` (all of them) to ``statement``."""
    return statement.where(and_(*conditions)) if conditions else statement


def query_logs(
    session: Session,
    log_filter: LogFilter,
    sort: str = "created_at",
    descending: bool = True,
    page: int = 1,
    page_size: int = 50,
) -> tuple[int, list[PredictionLog]]:
    """Return ``(total matching rows, the requested page of them)``."""
    if sort not in SORTABLE:
        raise ValueError(f"cannot sort by {sort!r}; choose one of {sorted(SORTABLE)}")
    conditions = log_filter.conditions()
    total = session.scalar(_where(select(func.count()).select_from(PredictionLog), conditions)) or 0
    column = SORTABLE[sort]
    order = column.desc() if descending else column.asc()
    tie_break = PredictionLog.id.desc() if descending else PredictionLog.id.asc()
    statement = (
        _where(select(PredictionLog), conditions)
        .order_by(order.nulls_last(), tie_break)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return int(total), list(session.scalars(statement))


def log_json(row: PredictionLog) -> dict[str, Any]:
    """Return a log row as JSON-ready data."""
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat() + "Z",
        "username": row.username,
        "endpoint": row.endpoint,
        "batch_id": row.batch_id,
        "model_version": row.model_version,
        "outcome": row.outcome,
        "error": row.error,
        "text": row.text,
        "value": row.value,
        "confidence": row.confidence,
        "char_confidences": row.char_confidences,
        "latency_ms": row.latency_ms,
        "image_width": row.image_width,
        "image_height": row.image_height,
        "image_bytes": row.image_bytes,
        "image_sha256": row.image_sha256,
    }


def stats(session: Session, log_filter: LogFilter, low_confidence: float) -> dict[str, Any]:
    """Summary of the matching rows: volumes, confidence distribution and latency percentiles."""
    conditions = log_filter.conditions()
    log = PredictionLog
    ok_conditions = [*conditions, log.outcome == OUTCOME_OK]
    total = session.scalar(_where(select(func.count()).select_from(log), conditions)) or 0
    ok_total = session.scalar(_where(select(func.count()).select_from(log), ok_conditions)) or 0
    low = session.scalar(
        _where(select(func.count()).select_from(log), [*ok_conditions, log.confidence < low_confidence])
    )
    return {
        "total": int(total),
        "by_outcome": _counts(session, log.outcome, conditions),
        "per_day": _per_day(session, conditions, low_confidence),
        "confidence_histogram": _histogram(session, ok_conditions),
        "low_confidence_threshold": low_confidence,
        "low_confidence_rate": (int(low or 0) / ok_total) if ok_total else None,
        "latency_ms": _percentiles(session, conditions, int(total)),
        "per_user": _counts(session, log.username, conditions),
        "per_model_version": _counts(session, log.model_version, conditions),
        "per_endpoint": _counts(session, log.endpoint, conditions),
    }


def _counts(session: Session, column: Any, conditions: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    """Row counts grouped by ``column``, largest first."""
    count = func.count().label("count")
    statement = _where(select(column, count).select_from(PredictionLog), conditions)
    rows = session.execute(statement.group_by(column).order_by(count.desc(), column).limit(TOP_GROUPS))
    return [{"key": key, "count": int(n)} for key, n in rows]


def _per_day(session: Session, conditions: list[ColumnElement[bool]], low_confidence: float) -> list[dict[str, Any]]:
    """Per UTC day, oldest first: row count, and the mean confidence and low-confidence rate of its ok rows.

    The two confidence figures are None on a day without answered predictions.
    """
    log = PredictionLog
    day = func.date(log.created_at).label("day")
    is_ok = log.outcome == OUTCOME_OK
    ok_count = func.sum(case((is_ok, 1), else_=0))
    low_count = func.sum(case((and_(is_ok, log.confidence < low_confidence), 1), else_=0))
    mean_confidence = func.avg(case((is_ok, log.confidence), else_=None))
    statement = select(day, func.count(), ok_count, low_count, mean_confidence)
    rows = session.execute(_where(statement, conditions).group_by(day).order_by(day))
    return [
        {
            "day": str(value)[:10],
            "count": int(n),
            "mean_confidence": float(mean) if mean is not None else None,
            "low_confidence_rate": int(low) / int(ok) if ok else None,
        }
        for value, n, ok, low, mean in rows
    ]


def _histogram(session: Session, conditions: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    """Count answered predictions in ten equal confidence bins over [0, 1]."""
    confidence = PredictionLog.confidence
    whens = [(confidence < (i + 1) / HISTOGRAM_BINS, i) for i in range(HISTOGRAM_BINS - 1)]
    bin_index = case(*whens, else_=HISTOGRAM_BINS - 1).label("bin")
    count = func.count().label("count")
    statement = _where(select(bin_index, count), [*conditions, confidence.is_not(None)]).group_by(bin_index)
    counts = {int(index): int(n) for index, n in session.execute(statement)}
    return [
        {"low": i / HISTOGRAM_BINS, "high": (i + 1) / HISTOGRAM_BINS, "count": counts.get(i, 0)}
        for i in range(HISTOGRAM_BINS)
    ]


def _percentiles(session: Session, conditions: list[ColumnElement[bool]], total: int) -> dict[str, float | None]:
    """Nearest-rank latency percentiles (p50, p95, p99) of the matching rows."""
    result: dict[str, float | None] = {}
    for percent in PERCENTILES:
        if total == 0:
            result[f"p{percent}"] = None
            continue
        rank = max(1, math.ceil(percent / 100 * total))
        statement = _where(select(PredictionLog.latency_ms), conditions).order_by(PredictionLog.latency_ms)
        result[f"p{percent}"] = session.scalar(statement.offset(rank - 1).limit(1))
    return result


def recent(session: Session, minutes: list[datetime], low_confidence: float) -> dict[str, Any]:
    """The rows since ``minutes[0]`` (the starts of consecutive minutes, oldest first), for the live dashboard.

    Answers the row count of each minute, how many rows were answered, rejected and answered with
    a confidence under ``low_confidence``, and the latency percentiles of them all.
    """
    log = PredictionLog
    conditions = [log.created_at >= minutes[0]]
    whens = [(log.created_at < start, index) for index, start in enumerate(minutes[1:])]
    minute = case(*whens, else_=len(minutes) - 1).label("minute") if whens else literal(0).label("minute")
    is_ok = log.outcome == OUTCOME_OK
    ok_count = func.sum(case((is_ok, 1), else_=0))
    low_count = func.sum(case((and_(is_ok, log.confidence < low_confidence), 1), else_=0))
    statement = _where(select(minute, func.count(), ok_count, low_count), conditions).group_by(minute)
    per_minute = [0] * len(minutes)
    ok = low = 0
    for index, count, ok_rows, low_rows in session.execute(statement):
        per_minute[int(index)] = int(count)
        ok += int(ok_rows or 0)
        low += int(low_rows or 0)
    total = sum(per_minute)
    return {
        "per_minute": per_minute,
        "total": total,
        "ok": ok,
        "rejected": total - ok,
        "low_confidence": low,
        "latency_ms": _percentiles(session, conditions, total),
    }
