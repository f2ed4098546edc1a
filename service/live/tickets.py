"""Tickets for the live dashboard's stream: short-lived, single use, bound to one admin's account.

A browser's ``EventSource`` cannot send an ``Authorization`` header, and the long-lived access
token must never travel in a URL. So the page trades its token for a ticket
(``POST /admin/live/ticket``) and opens ``/admin/live?ticket=...`` with it. A ticket is a JWT
like an access token (``service.accounts.tokens``: username, role, token version, expiry) but
signed with a key derived from the JWT secret for this purpose only: a ticket is never accepted
as an access token, nor an access token as a ticket. It lives ``TICKET_SECONDS`` and opens one
stream: the first redemption marks it spent in Redis (``SET NX``, seen by every replica) and in
this process's memory, which alone still refuses a second use here while Redis is away.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import redis

from service.accounts.tokens import AuthError, Claims, decode_token, issue_token
from service.accounts.users import Account

TICKET_SECONDS = 30
SPENT_PREFIX = "digitify:live:spent:"
PURPOSE = b"digitify live-dashboard ticket"


class LiveTickets:
    """Issues and redeems the stream's tickets."""

    def __init__(self, secret: str, client: redis.Redis, ttl_s: int = TICKET_SECONDS) -> None:
        self.key = hmac.new(secret.encode(), PURPOSE, hashlib.sha256).hexdigest()
        self.client = client
        self.ttl_s = ttl_s
        self._spent: dict[str, int] = {}  # digest of a redeemed ticket -> its expiry (epoch seconds)
        self._lock = threading.Lock()

    def issue(self, account: Account, now: float | None = None) -> str:
        """A ticket for ``account``, valid ``ttl_s`` seconds from ``now``."""
        return issue_token(self.key, account.username, account.role, self.ttl_s, now=now, version=account.token_version)

    def redeem(self, ticket: str) -> Claims:
        """The ticket's claims, spending it; AuthError if it is invalid, expired or spent (blocking: Redis)."""
        claims = decode_token(self.key, ticket)
        digest = hashlib.sha256(ticket.encode()).hexdigest()
        with self._lock:
            now = time.time()
            self._spent = {key: expiry for key, expiry in self._spent.items() if expiry >= now}
            if digest in self._spent:
                raise AuthError("this ticket was used already: ask for another")
            self._spent[digest] = claims.expires_at
        try:
            first = self.client.set(SPENT_PREFIX + digest, 1, nx=True, exat=claims.expires_at + 1)
        except (redis.RedisError, OSError):
            return claims  # Redis is away: this process's memory refuses a second use here
        if not first:
            raise AuthError("this ticket was used already: ask for another")
        return claims
