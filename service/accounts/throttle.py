"""Limits on login and registration: per client address, per username, and on password hashing.

- Every attempt from one client address takes a token from that address's bucket
  (``ADDRESS_BURST`` at once, refilled at ``ADDRESS_PER_MINUTE``).
- Every failed login of a username takes a token from the bucket of that username *from that
  address* (``FAILURES_BURST`` at once, one more every ``FAILURE_REFILL_SECONDS``): once empty,
  that address may not log in as that user, right password or not, until a token is back. The
  guessing address is slowed, never the account's owner elsewhere: nobody can lock a user (the
  admin) out by failing on purpose. Guessing from many addresses meets each one's address
  bucket and the one hashing queue.
- Password hashing (argon2, 64 MiB each) runs on its own ``HASH_THREADS`` tokens, never on the
  thread tokens that predictions and token checks use; with ``MAX_HASHES_WAITING`` attempts
  already queued, another is told to come back (503) instead of queueing without end.

Refusals say when to retry (``retry_after`` seconds, sent as ``Retry-After``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import anyio

from service.accounts.rate_limit import RateLimiter

ADDRESS_BURST = 100
ADDRESS_PER_MINUTE = 100
FAILURES_BURST = 10
FAILURE_REFILL_SECONDS = 60
HASH_THREADS = 1
MAX_HASHES_WAITING = 16

T = TypeVar("T")


class ThrottledError(Exception):
    """An attempt refused before any password is hashed; ``status`` and ``retry_after`` say how to answer."""

    def __init__(self, message: str, status: int, retry_after: float) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = max(1, math.ceil(retry_after))


class AuthThrottle:
    """The per-process limits on authentication attempts."""

    def __init__(self) -> None:
        self.addresses = RateLimiter(ADDRESS_BURST, ADDRESS_PER_MINUTE / 60)
        self.failures = RateLimiter(FAILURES_BURST, 1 / FAILURE_REFILL_SECONDS)
        self.hashing = anyio.CapacityLimiter(HASH_THREADS)

    def admit(self, address: str, username: str | None = None) -> None:
        """Count an attempt from ``address`` (for ``username``); raise ThrottledError if it must wait."""
        wait = self.addresses.take(address)
        if wait:
            raise ThrottledError("too many login or registration attempts from your address", 429, wait)
        if username is not None:
            locked = self.failures.wait_seconds(_failure_key(address, username))
            if locked:
                message = f"too many failed logins for {username!r} from your address: try again later"
                raise ThrottledError(message, 429, locked)

    def failed_login(self, address: str, username: str) -> None:
        """Count a failed login of ``username`` from ``address``."""
        self.failures.take(_failure_key(address, username))

    async def hash_off_the_main_pool(self, function: Callable[..., T], *args: object) -> T:
        """Run ``function`` (which hashes a password) on the hashing tokens; 503 if too many already wait."""
        if self.hashing.statistics().tasks_waiting >= MAX_HASHES_WAITING:
            raise ThrottledError("the server is busy checking passwords: try again in a moment", 503, 1)
        return await anyio.to_thread.run_sync(function, *args, limiter=self.hashing)


def _failure_key(address: str, username: str) -> str:
    """The failed-login bucket of one username tried from one address."""
    return f"{address} {username.lower()}"
