"""ASGI plumbing every middleware shares: the types, the one JSON error answer and the one "starting" 503.

Every error the service answers, from a middleware or a route, has the body ``{"error": message}``
(a logged refusal adds its ``log_id``, a validation error its ``detail``): :func:`error_body` builds
it, :func:`send_error` sends it from middleware, :func:`error_response` returns it from a route.
Until a worker has built its runtime, whatever needs it answers :func:`send_starting` (or
:func:`starting_response`): 503 ``{"error": "the service is starting"}`` with ``Retry-After: 2``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STARTING = "the service is starting"
STARTING_HEADERS = {"retry-after": "2"}


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error answer: ``{"error": message}`` and any extra fields (``log_id``)."""
    return {"error": message, **extra}


def error_response(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """An error answer for a route: ``status`` with :func:`error_body`."""
    return JSONResponse(error_body(message, **extra), status_code=status, headers=headers)


def starting_response() -> JSONResponse:
    """The 503 a route answers while the service is starting."""
    return error_response(503, STARTING, STARTING_HEADERS)


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Answer a request directly from middleware with a small JSON body."""
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(key.lower().encode(), value.encode()) for key, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def send_error(
    send: Send, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> None:
    """Answer an error from middleware: ``status`` with :func:`error_body`."""
    await send_json(send, status, error_body(message, **extra), headers)


async def send_starting(send: Send) -> None:
    """Answer from middleware that the service is starting (503, try again in two seconds)."""
    await send_error(send, 503, STARTING, STARTING_HEADERS)
