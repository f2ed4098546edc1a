"""Corrections: ``POST /corrections`` (what a prediction should have read) and the admins' review queue.

``GET /admin/corrections`` lists them with the log viewer's filters; ``POST
/admin/corrections/{log_id}/accept`` and ``.../reject`` review one. The rules (who may correct
what, which text is readable) are ``service.corrections.queue``'s.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from models.charset import CHARSET
from service.accounts.users import Account
from service.api.deps import MAX_PAGE, admin, log_filter, pages, runtime, signed_in
from service.core.runtime import Runtime
from service.corrections.queue import (
    CorrectionError,
    CorrectionFilter,
    correction_item,
    query_corrections,
    review,
    submit,
)
from service.db.queries import LogFilter
from service.db.tables import CORRECTION_ACCEPTED, CORRECTION_REJECTED
from service.live.events import CORRECTIONS

router = APIRouter()


class CorrectionRequest(BaseModel):
    """What a person says a prediction should have read."""

    log_id: Annotated[str, Field(min_length=1, max_length=36, description="the prediction's log_id")]
    text: Annotated[
        str,
        Field(
            max_length=256,
            description=f"the right number, in the characters {CHARSET} (^ before a raised exponent: 6.02×10^23)",
        ),
    ]


class CorrectionItem(BaseModel):
    """A correction and the prediction it corrects."""

    log_id: str
    predicted_text: str | None
    corrected_text: str
    confidence: float | None
    username: str | None = Field(description="who made the prediction")
    corrected_by: str
    corrected_at: str | None
    status: str
    reviewed_by: str | None
    reviewed_at: str | None
    model_version: str
    predicted_at: str | None
    endpoint: str
    image_sha256: str | None
    image_url: str | None = Field(description="null when the image was not kept")


class CorrectionPage(BaseModel):
    """One page of the corrections queue, with the total count."""

    total: int
    page: int
    page_size: int
    pages: int
    items: list[CorrectionItem]


@router.post("/corrections", status_code=201)
def correct(
    body: CorrectionRequest,
    response: Response,
    account: Annotated[Account, Depends(signed_in)],
    rt: Annotated[Runtime, Depends(runtime)],
) -> CorrectionItem:
    """Say what a prediction should have read (your own prediction, or any as an admin); an admin reviews it.

    201 for a new correction, 200 when it replaces an earlier one of the same prediction.
    """
    rt.ensure_schema()

    def kept_uri(sha256: str) -> str | None:
        return rt.images.uri(sha256) if rt.images.exists(sha256) else None

    def attempt() -> CorrectionItem:
        with rt.sessions() as session:
            correction, prediction, created = submit(session, account, body.log_id, body.text, kept_uri)
            response.status_code = 201 if created else 200
            return CorrectionItem(**correction_item(correction, prediction))

    try:
        item = attempt()
    except CorrectionError as exc:
        if exc.status != 404:
            raise
        rt.logbook.flush_for_request()  # a prediction made a moment ago may still wait in the spool
        item = attempt()
    rt.events.publish(CORRECTIONS)
    return item


def correction_filter(
    filters: Annotated[LogFilter, Depends(log_filter)],
    status: Literal["pending", "accepted", "rejected"] | None = None,
    corrected_by: str | None = None,
) -> CorrectionFilter:
    """Build the corrections filter: its status and author, and the log filter over the predictions."""
    return CorrectionFilter(status=status, corrected_by=corrected_by, predictions=filters)


@router.get("/admin/corrections")
def admin_corrections(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    filters: Annotated[CorrectionFilter, Depends(correction_filter)],
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CorrectionPage:
    """Corrections matching the filters, newest first by default, paginated, with the total count."""
    rt.ensure_schema()
    with rt.sessions() as session:
        total, rows = query_corrections(session, filters, order == "desc", page, page_size)
    items = [CorrectionItem(**correction_item(correction, prediction)) for correction, prediction in rows]
    return CorrectionPage(total=total, page=page, page_size=page_size, pages=pages(total, page_size), items=items)


class ReviewRequest(BaseModel):
    """The text of the correction the admin decides on, as they saw it (409 if it has changed since)."""

    text: Annotated[str, Field(max_length=64)]


def _review(rt: Runtime, account: Account, log_id: str, status: str, seen: ReviewRequest) -> CorrectionItem:
    """Set a correction's review status and answer the updated item."""
    rt.ensure_schema()
    with rt.sessions() as session:
        item = CorrectionItem(**correction_item(*review(session, account, log_id, status, seen.text)))
    rt.events.publish(CORRECTIONS)
    return item


@router.post("/admin/corrections/{log_id}/accept")
def accept_correction(
    log_id: str,
    seen: ReviewRequest,
    account: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
) -> CorrectionItem:
    """Accept the correction reading ``text``: with its image kept, it becomes training data at the next export."""
    return _review(rt, account, log_id, CORRECTION_ACCEPTED, seen)


@router.post("/admin/corrections/{log_id}/reject")
def reject_correction(
    log_id: str,
    seen: ReviewRequest,
    account: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
) -> CorrectionItem:
    """Reject the correction reading ``text``: it is kept for the record but never exported."""
    return _review(rt, account, log_id, CORRECTION_REJECTED, seen)
