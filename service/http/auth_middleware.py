"""ASGI middleware: a valid bearer token is needed for every route that is not explicitly public.

Deny by default: health probes, the API docs, login/registration and the web UI's files are
public; predictions and everything else need a valid HS256 token of a known, active user whose
token version is current (a password change revokes older tokens), and ``/admin/*`` and
``/metrics`` need the admin role (403 otherwise). The live dashboard's stream (``TICKET_PATHS``)
may instead be opened with a single-use ticket in its query (``service.live.tickets``: a browser's
``EventSource`` cannot send the header, and the token itself never goes in a URL); the ticket's
account is then checked like a token's. The authenticated account is put in the ASGI scope under
``SCOPE_KEY`` for the handlers to log.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs

import anyio

from service.accounts.tokens import AuthError, Claims
from service.accounts.users import Account, UserStoreUnavailableError
from service.core.runtime import Runtime, RuntimeNotReadyError, current
from service.http.asgi import ASGIApp, Receive, Scope, Send, send_error, send_starting

SCOPE_KEY = "digitify.account"
PUBLIC_PATHS = frozenset(
    {
        "/",
        "/livez",
        "/healthz",
        "/readyz",
        "/docs",
        "/docs.json",
        "/schema.json",
        "/favicon.ico",
        "/auth/login",
        "/auth/register",
    }
)
PUBLIC_PREFIXES = ("/static_content/",)
ADMIN_PATHS = frozenset({"/metrics"})
TICKET_PATHS = frozenset({"/admin/live"})


def account_of(scope: MutableMapping[str, Any]) -> Account | None:
    """Return the account the middleware authenticated for this request, if any."""
    return scope.get(SCOPE_KEY)


def is_public(path: str, web_paths: frozenset[str] = frozenset(), web_prefixes: tuple[str, ...] = ()) -> bool:
    """Whether ``path`` may be requested without a token."""
    return (
        path in PUBLIC_PATHS
        or path in web_paths
        or path.startswith(PUBLIC_PREFIXES)
        or bool(web_prefixes and path.startswith(web_prefixes))
    )


def bearer_token(scope: Scope) -> str | None:
    """Return the token of an ``Authorization: Bearer ...`` header, if present."""
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


def ticket_of(scope: Scope) -> str | None:
    """The ``ticket`` query parameter of a request to a ``TICKET_PATHS`` route, if given once."""
    if scope["path"] not in TICKET_PATHS:
        return None
    tickets = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket", [])
    return tickets[0] if len(tickets) == 1 else None


class AuthMiddleware:
    """Require a valid bearer JWT on every non-public HTTP route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request's credentials, then pass it on or answer 401/403/503."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        try:
            runtime = current()
        except RuntimeNotReadyError:
            if is_public(path):
                await self.app(scope, receive, send)
            else:
                await send_starting(send)
            return
        if is_public(path, runtime.web.public_paths, runtime.web.public_prefixes):
            await self.app(scope, receive, send)
            return
        account, failure = await self._authenticate(scope, runtime)
        if failure is not None:
            status, message = failure
            headers = {"www-authenticate": 'Bearer error="invalid_token"'} if status == 401 else {"retry-after": "5"}
            await send_error(send, status, message, headers)
            return
        if (path.startswith("/admin") or path in ADMIN_PATHS) and not account.is_admin:
            await send_error(send, 403, "admin role required")
            return
        await self.app({**scope, SCOPE_KEY: account}, receive, send)

    async def _authenticate(self, scope: Scope, runtime: Runtime) -> tuple[Account | None, tuple[int, str] | None]:
        """Return the token's (or ticket's) account, or ``(None, (status, message))`` saying why not."""
        token, ticket = bearer_token(scope), ticket_of(scope)
        if token is None and ticket is None:
            return None, (401, "missing bearer token (log in at /auth/login)")
        try:
            claims: Claims = (
                runtime.tokens.decode(token)
                if token is not None
                else await anyio.to_thread.run_sync(runtime.live_tickets.redeem, ticket)
            )
        except AuthError as exc:
            return None, (401, str(exc))
        fresh, account = runtime.directory.cached(claims.username)
        if not fresh:
            try:
                account = await anyio.to_thread.run_sync(runtime.directory.lookup, claims.username)
            except UserStoreUnavailableError:
                return None, (503, "the account database is unavailable, try again shortly")
        if account is None or not account.is_active:
            return None, (401, "unknown or disabled user")
        if claims.version != account.token_version:
            return None, (401, "token revoked by a password change: log in again")
        return account, None
