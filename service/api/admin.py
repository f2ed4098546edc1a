"""Admin routes over the prediction log: its rows, statistics, kept images and quarantine (``/admin/...``).

Only admins reach them (the auth middleware answers 403 to others, and :func:`service.api.deps.admin`
checks again). The answers are typed: the pydantic models below are the JSON they send.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel

from service.accounts.users import Account
from service.api.deps import MAX_PAGE, admin, log_filter, pages, runtime
from service.core.runtime import Runtime
from service.corrections.image_store import SHA256
from service.corrections.queue import corrected_share, corrections_of, image_url
from service.db.queries import LogFilter, SortKey, log_json, query_logs, stats
from service.db.tables import OUTCOME_OK

router = APIRouter()


class LogItem(BaseModel):
    """One prediction-log row, with where its image is and how people corrected it."""

    id: str
    created_at: str
    username: str | None
    endpoint: str
    batch_id: str | None
    model_version: str
    outcome: str
    error: str | None
    text: str | None
    value: str | None
    confidence: float | None
    char_confidences: list[float] | None
    latency_ms: float
    image_width: int | None
    image_height: int | None
    image_bytes: int | None
    image_sha256: str | None
    image_url: str | None
    corrected_text: str | None
    correction_status: str | None


class LogPage(BaseModel):
    """One page of the prediction log, with the total count."""

    total: int
    page: int
    page_size: int
    pages: int
    items: list[LogItem]


class GroupCount(BaseModel):
    """The number of rows with one value of a column (a user, a model version, an endpoint, an outcome)."""

    key: str | None
    count: int


class DayStats(BaseModel):
    """One UTC day: its rows, and the mean confidence and low-confidence rate of its answered ones."""

    day: str
    count: int
    mean_confidence: float | None
    low_confidence_rate: float | None


class HistogramBin(BaseModel):
    """Answered predictions whose confidence lies in ``[low, high)``."""

    low: float
    high: float
    count: int


class Latency(BaseModel):
    """Latency percentiles in milliseconds (nearest rank; null without rows)."""

    p50: float | None
    p95: float | None
    p99: float | None


class VersionShare(BaseModel):
    """The share of one model version's answered predictions that people corrected."""

    model_version: str
    predictions: int
    corrected: int
    share: float


class DayShare(BaseModel):
    """The share of one day's answered predictions that people corrected."""

    day: str
    predictions: int
    corrected: int
    share: float


class CorrectionStats(BaseModel):
    """Corrections per status, and the share of answered predictions people corrected (a correction not rejected)."""

    total: int
    pending: int
    accepted: int
    rejected: int
    predictions: int
    corrected: int
    share: float
    by_model_version: list[VersionShare]
    by_day: list[DayShare]


class Stats(BaseModel):
    """The summary of the matching log rows."""

    total: int
    by_outcome: list[GroupCount]
    per_day: list[DayStats]
    confidence_histogram: list[HistogramBin]
    low_confidence_threshold: float
    low_confidence_rate: float | None
    latency_ms: Latency
    per_user: list[GroupCount]
    per_model_version: list[GroupCount]
    per_endpoint: list[GroupCount]
    corrections: CorrectionStats
    spooled_rows: int
    quarantined_rows: int


class QuarantinedRow(BaseModel):
    """A log row the database refused for good, kept in the spool with the reason."""

    seq: int
    quarantined_at: str
    error: str
    row: dict[str, Any]


class Quarantine(BaseModel):
    """The quarantined rows, newest first, and how many there are."""

    total: int
    items: list[QuarantinedRow]


@router.get("/admin/logs")
def admin_logs(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    filters: Annotated[LogFilter, Depends(log_filter)],
    sort: SortKey = "created_at",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> LogPage:
    """Prediction log rows matching the filters, sorted and paginated, with the total count."""
    rt.ensure_schema()
    with rt.sessions() as session:
        total, rows = query_logs(session, filters, sort, order == "desc", page, page_size)
        corrected = corrections_of(session, [row.id for row in rows])
    items = []
    for row in rows:
        correction = corrected.get(row.id)
        items.append(
            LogItem(
                **log_json(row),
                image_url=image_url(row.image_sha256) if row.outcome == OUTCOME_OK else None,
                corrected_text=correction.text if correction else None,
                correction_status=correction.status if correction else None,
            )
        )
    return LogPage(total=total, page=page, page_size=page_size, pages=pages(total, page_size), items=items)


@router.get("/admin/stats")
def admin_stats(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    filters: Annotated[LogFilter, Depends(log_filter)],
    low_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
) -> Stats:
    """Summarize: per-day counts, confidence histogram, low-confidence rate, latency percentiles, per-user/model."""
    rt.ensure_schema()
    threshold = rt.settings.low_confidence if low_confidence is None else low_confidence
    with rt.sessions() as session:
        summary = stats(session, filters, threshold)
        corrections = corrected_share(session, filters)
    return Stats(
        **summary,
        corrections=CorrectionStats(**corrections),
        spooled_rows=rt.logbook.spool.count(),
        quarantined_rows=rt.logbook.spool.quarantined_count(),
    )


IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def media_type(data: bytes) -> str:
    """The image type its first bytes announce (``application/octet-stream`` when unknown)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in IMAGE_TYPES if data.startswith(magic)), "application/octet-stream")


@router.get("/admin/images/{sha256}")
def admin_image(
    sha256: str, _: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]
) -> Response:
    """A kept prediction image, by the SHA-256 of its bytes (404 when it was not kept or has expired)."""
    if not SHA256.fullmatch(sha256):
        raise HTTPException(422, "an image is named by the SHA-256 of its bytes: 64 lower-case hex digits")
    data = rt.images.get(sha256)
    if data is None:
        raise HTTPException(404, "this image is not kept (the deployment does not keep images, or it expired)")
    return Response(data, media_type=media_type(data), headers={"cache-control": "private, max-age=86400"})


@router.get("/admin/quarantine")
def admin_quarantine(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Quarantine:
    """Prediction-log rows the database refused for good, newest first: kept in the spool with the reason."""
    items = [QuarantinedRow(**item) for item in rt.logbook.spool.quarantined(limit)]
    return Quarantine(total=rt.logbook.spool.quarantined_count(), items=items)
