"""The one builder of prediction-log rows, and their form in the spool.

Every row the log holds is built by :func:`log_row` from the request's :class:`LogContext` (its
row id, who asked, on which route, since when): an answered reading (text, confidences, the
image's facts) or a refusal (``error``, and the image's size when it is known). The request guard,
the predictor and the inference processes all call it. An answered reading's row holds its
``value`` (``models.number_value``) under the request's rule for reading a separator, so that the
admin log can filter by value range.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.number_value import SeparatorRule, parse_value
from service.db.tables import OUTCOME_OK, OUTCOME_REJECTED, utcnow


@dataclass(frozen=True)
class LogContext:
    """Where a request goes in the prediction log: its row id, who asked, on which route, since when.

    ``started`` is ``time.perf_counter()`` when the request arrived: the system's monotonic clock,
    the same in every process, so an inference process can tell the request's latency.
    ``separator_rule``: how a comma or point is read for the row's ``value`` (the request's
    ``decimal_separator``, else the service's ``DIGITIFY_DECIMAL_SEPARATOR``).
    """

    log_id: str
    username: str | None
    endpoint: str
    started: float
    batch_id: str | None = None
    separator_rule: SeparatorRule = "auto"


def log_row(
    context: LogContext,
    model_version: str,
    *,
    error: str | None = None,
    text: str | None = None,
    confidence: float | None = None,
    char_confidences: list[float] | None = None,
    image_width: int | None = None,
    image_height: int | None = None,
    image_bytes: int | None = None,
    image_sha256: str | None = None,
) -> dict[str, Any]:
    """Build one prediction-log row, its latency measured now; it is a rejection when ``error`` is given.

    The row's ``value`` is the text's value under ``context.separator_rule`` (None without a text, or
    when the text is not a well-formed number).
    """
    return {
        "id": context.log_id,
        "created_at": utcnow(),
        "username": context.username,
        "endpoint": context.endpoint,
        "batch_id": context.batch_id,
        "model_version": model_version,
        "outcome": OUTCOME_REJECTED if error is not None else OUTCOME_OK,
        "error": error,
        "text": text,
        "value": parse_value(text, context.separator_rule).value if text is not None else None,
        "confidence": confidence,
        "char_confidences": char_confidences,
        "latency_ms": round((time.perf_counter() - context.started) * 1000, 3),
        "image_width": image_width,
        "image_height": image_height,
        "image_bytes": image_bytes,
        "image_sha256": image_sha256,
    }


def to_spool_row(row: dict[str, Any]) -> dict[str, Any]:
    """Make a log row JSON-ready (datetimes as ISO strings)."""
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}


def from_spool_row(row: dict[str, Any]) -> dict[str, Any]:
    """Turn a spooled row back into column values (a row spooled before rows held a value gets none)."""
    values = dict(row)
    values["created_at"] = datetime.fromisoformat(values["created_at"])
    values.setdefault("value", None)
    return values
