"""The live dashboard's routes: ``POST /admin/live/ticket`` and the Server-Sent Events stream ``GET /admin/live``.

The stream needs an admin like every ``/admin`` route. A browser's ``EventSource`` cannot send the
bearer token, so the page first trades it for a ticket (30 s, single use:
``service.live.tickets``) and opens ``/admin/live?ticket=...``; the auth middleware redeems it.
The stream sends the figures (``service.live.figures``) at once and then whenever they change
(``service.live.hub``), each as an ``event: figures`` with an ``id:``, and a comment every
``HEARTBEAT_S`` so that proxies keep it open. After ``STREAM_S`` it ends (before the admission
control's request timeout); the client reconnects with a new ticket. A reconnect names the last
id it saw (``Last-Event-ID``, or ``last_event_id`` where the client opens a new stream itself):
its ids go on from there, and its first event is a full reading, so no figure is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from service.accounts.users import Account
from service.api.deps import admin, runtime
from service.core.runtime import Runtime
from service.live.figures import LiveFigures
from service.live.hub import LiveHub

HEARTBEAT_S = 15.0
STREAM_S = 100.0  # under service.http.admission.REQUEST_TIMEOUT_S
RETRY_MS = 1000
STREAM_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}

router = APIRouter(prefix="/admin/live", tags=["admin"])


class Ticket(BaseModel):
    """A ticket that opens one live stream within ``expires_in`` seconds."""

    ticket: str
    expires_in: int


@router.post("/ticket")
def live_ticket(account: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]) -> Ticket:
    """A short-lived, single-use ticket for ``GET /admin/live?ticket=...`` (the bearer token stays out of URLs)."""
    return Ticket(ticket=rt.live_tickets.issue(account), expires_in=rt.live_tickets.ttl_s)


@router.get("", response_class=StreamingResponse)
async def live(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
    resume_after: Annotated[int | None, Query(alias="last_event_id", ge=0)] = None,
) -> StreamingResponse:
    """The dashboard's figures as Server-Sent Events: at once, then as they change (needs a ticket or token)."""
    after = last_event_id if last_event_id is not None else resume_after
    return StreamingResponse(stream(rt.live, (after or 0) + 1), media_type="text/event-stream", headers=STREAM_HEADERS)


def frame(event_id: int, figures: LiveFigures) -> str:
    """One Server-Sent Event carrying the figures."""
    return f"id: {event_id}\nevent: figures\ndata: {figures.model_dump_json()}\n\n"


async def stream(hub: LiveHub, first_id: int) -> AsyncIterator[str]:
    """The stream's text: the figures now, then each change, heartbeats between; ends after ``STREAM_S``."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + STREAM_S
    event_id = first_id
    async with hub.stream() as updates:
        yield f"retry: {RETRY_MS}\n" + frame(event_id, await hub.figures())
        while (left := ends - loop.time()) > 0:
            try:
                figures = await asyncio.wait_for(updates.get(), timeout=min(HEARTBEAT_S, left))
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            event_id += 1
            yield frame(event_id, figures)
