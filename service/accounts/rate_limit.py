"""Token buckets keyed by a string (a username, a client address): login and registration, refused predictions.

Each key holds up to ``capacity`` tokens and regains ``per_second`` of them; an action takes one.
The table is bounded (the least recently used keys are forgotten first), so a flood of new keys
costs memory only up to ``max_keys``. The buckets live in the worker process: with several
workers each enforces its own share.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimiter:
    """A bounded, thread-safe table of token buckets."""

    def __init__(self, capacity: float, per_second: float, max_keys: int = 100_000) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        """The tokens ``key`` holds at ``now`` (caller holds the lock)."""
        tokens, updated = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - updated) * self.per_second)

    def wait_seconds(self, key: str, now: float | None = None) -> float:
        """Seconds until ``key`` may act again (0 if it may act now); takes nothing."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = self._level(key, now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.per_second

    def take(self, key: str, now: float | None = None) -> float:
        """Take a token for ``key``: return 0 if it had one, else the seconds until it will (nothing taken)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = self._level(key, now)
            if tokens < 1:
                return (1 - tokens) / self.per_second
            self._buckets[key] = (tokens - 1, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return 0.0
