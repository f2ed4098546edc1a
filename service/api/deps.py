"""What the FastAPI routes depend on: the worker's runtime, the caller's account, the log filters, pages.

The auth middleware (``service.http.auth_middleware``) already refused every request without a
valid token for a non-public route; these dependencies read the account it put in the scope.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Query, Request

from models.charset import CHARSET
from service.accounts.users import Account
from service.core.runtime import Runtime, current
from service.db.queries import LogFilter
from service.http.auth_middleware import account_of

MAX_PAGE = 1_000_000


async def runtime() -> Runtime:
    """Return the process runtime (``RuntimeNotReadyError``, answered 503, while the service starts)."""
    return current()


def signed_in(request: Request) -> Account:
    """Return the account the auth middleware authenticated (401 if it did not)."""
    account = account_of(request.scope)
    if account is None:
        raise HTTPException(401, "missing bearer token")
    return account


def admin(account: Annotated[Account, Depends(signed_in)]) -> Account:
    """Return the authenticated account if it is an admin (403 otherwise)."""
    if not account.is_admin:
        raise HTTPException(403, "admin role required")
    return account


def client_address(request: Request) -> str:
    """The address of the client that sent ``request`` (the connection's peer)."""
    return request.client.host if request.client is not None else "local"


def log_filter(
    user: str | None = None,
    text: Annotated[str | None, Query(max_length=128)] = None,
    contains: Annotated[
        str | None, Query(min_length=1, max_length=1, description=f"one character of the charset {CHARSET}")
    ] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    since: Annotated[datetime | None, Query(description="ISO time, inclusive (UTC if no zone)")] = None,
    until: Annotated[datetime | None, Query(description="ISO time, exclusive (UTC if no zone)")] = None,
    model_version: str | None = None,
    outcome: Literal["ok", "rejected"] | None = None,
    endpoint: str | None = None,
    min_value: Annotated[Decimal | None, Query(description="a decimal number; rows with at least this value")] = None,
    max_value: Annotated[Decimal | None, Query(description="a decimal number; rows with at most this value")] = None,
) -> LogFilter:
    """Build the log filter from query parameters, validated."""
    if contains is not None and contains not in CHARSET:
        raise HTTPException(422, f"contains must be one character of {CHARSET!r}")
    return LogFilter(
        username=user,
        text=text,
        contains=contains,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        since=_utc(since),
        until=_utc(until),
        model_version=model_version,
        outcome=outcome,
        endpoint=endpoint,
        min_value=min_value,
        max_value=max_value,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """Convert a datetime to naive UTC (the stored form); naive input is taken as UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def pages(total: int, page_size: int) -> int:
    """How many pages of ``page_size`` items ``total`` items fill."""
    return (total + page_size - 1) // page_size
