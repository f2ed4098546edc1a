"""ASGI middleware: in development mode the service answers only clients on this machine.

Development mode runs without any set-up, so it must not be reachable from the network: every
request from a non-loopback address gets a 403 that says how to serve others (production mode),
and so does a request a proxy forwarded (``X-Forwarded-For`` or ``Forwarded``): it comes from
elsewhere, whatever the proxy's own address. ``./scripts/run.sh`` also binds 127.0.0.1 unless told
otherwise.
"""

from __future__ import annotations

import ipaddress

from service.core.config import PRODUCTION, environment
from service.http.asgi import ASGIApp, Receive, Scope, Send, send_error

REFUSAL = (
    "this Digitify server runs in development mode and answers only this machine; "
    "set DIGITIFY_ENV=production with a real DIGITIFY_JWT_SECRET to serve other machines"
)


FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded"})


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this machine (a Unix socket, with no address, counts as local)."""
    if host is None:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


class LoopbackGuard:
    """Refuse non-loopback clients unless the service runs in production mode."""

    def __init__(self, app: ASGIApp, mode: str | None = None) -> None:
        self.app = app
        self.production = (mode or environment()) == PRODUCTION

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 403 to a remote client in development mode."""
        if self.production or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        forwarded = any(key in FORWARDING_HEADERS for key, _ in scope.get("headers", []))
        if is_loopback(client[0] if client else None) and not forwarded:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await send_error(send, 403, REFUSAL)
