"""ASGI middleware: how many requests are let in, and for how long, ahead of BentoML's own limits.

BentoML's own concurrency limit (``traffic.max_concurrency``) counts every request alike, and its
answers (429, and 504 after ``traffic.timeout``) carry none of the service's headers; public
requests that send their bodies slowly once filled it for everyone. So the service sets no
BentoML concurrency limit, and this middleware, inside the security headers and outside
everything else, admits a request only while:

- fewer than ``MAX_IN_FLIGHT`` requests are in progress in this worker,
- its client address has fewer than ``MAX_IN_FLIGHT_PER_CLIENT`` of them, and
- for a public route (login, registration, health probes, docs, the web page's files), fewer than
  ``MAX_PUBLIC_IN_FLIGHT`` public requests are in progress: whatever public clients do, the rest
  stays for signed-in users.

Otherwise it answers 429 with ``Retry-After``. A request still unanswered after
``REQUEST_TIMEOUT_S`` gets a 504 (if its answer has not started), before BentoML's own timeout
(``BENTOML_TIMEOUT_S``, a backstop). How slowly a body may arrive is the request guard's business
(``service.http.request_guard``: 408).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from typing import Any

import anyio

from service.core.runtime import RuntimeNotReadyError, current
from service.http.asgi import ASGIApp, Receive, Scope, Send, send_error
from service.http.auth_middleware import is_public

MAX_IN_FLIGHT = 256
MAX_IN_FLIGHT_PER_CLIENT = 32
MAX_PUBLIC_IN_FLIGHT = 64
REQUEST_TIMEOUT_S = 120.0
BENTOML_TIMEOUT_S = 300  # BentoML's backstop (service.py), after REQUEST_TIMEOUT_S
BUSY = "the server is busy: try again in a moment"
BUSY_CLIENT = "too many requests from your address at once: wait for some to finish"
BUSY_PUBLIC = "the server is busy with other clients' public requests: try again in a moment"
TIMED_OUT = "the request took too long and was stopped"


class AdmissionControl:
    """Cap requests in progress per client address and public requests per worker; time requests out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.per_client: Counter[str] = Counter()
        self.public = 0
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit the request and pass it on, or answer 429; answer 504 when it outlives its time."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "local"
        public = _public(scope.get("path", ""))
        if self.in_flight >= MAX_IN_FLIGHT:
            await send_error(send, 429, BUSY, {"retry-after": "1", "connection": "close"})
            return
        if self.per_client[address] >= MAX_IN_FLIGHT_PER_CLIENT:
            await send_error(send, 429, BUSY_CLIENT, {"retry-after": "1", "connection": "close"})
            return
        if public and self.public >= MAX_PUBLIC_IN_FLIGHT:
            await send_error(send, 429, BUSY_PUBLIC, {"retry-after": "1", "connection": "close"})
            return
        self.in_flight += 1
        self.per_client[address] += 1
        self.public += public
        started = False

        async def tracked_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            with anyio.move_on_after(REQUEST_TIMEOUT_S) as deadline:
                await self.app(scope, receive, tracked_send)
            if deadline.cancelled_caught and not started:
                await send_error(send, 504, TIMED_OUT, {"connection": "close"})
        finally:
            self.in_flight -= 1
            self.per_client[address] -= 1
            if not self.per_client[address]:
                del self.per_client[address]
            self.public -= public


def _public(path: str) -> bool:
    """Whether ``path`` is served without a token (the web page's files included, once the worker knows them)."""
    try:
        runtime = current()
    except RuntimeNotReadyError:
        return is_public(path)
    return is_public(path, runtime.web.public_paths, runtime.web.public_prefixes)
