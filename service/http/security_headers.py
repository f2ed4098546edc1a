"""ASGI middleware: every response carries the browser security headers.

``Content-Security-Policy`` lets pages load scripts, styles, fonts and data only from the service
itself (images also from ``data:`` and ``blob:`` URLs, which the page uses for previews), and
forbids framing; the Swagger UI at ``/docs`` starts with an inline script, so that one page may
run inline code. ``X-Content-Type-Options``, ``X-Frame-Options`` and ``Referrer-Policy`` complete it.
A header the application already set is left as it is.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from service.http.asgi import ASGIApp, Receive, Scope, Send

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs"})
COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    """The security headers of a response to ``path``."""
    policy = DOCS_POLICY if path in DOCS_PATHS else POLICY
    return [(b"content-security-policy", policy.encode()), *COMMON]


class SecurityHeaders:
    """Add the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""))

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                headers += [(key, value) for key, value in extra if key not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
