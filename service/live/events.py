"""The live dashboard's events: small JSON messages on one Redis pub/sub channel, published best-effort.

Every process that changes what the dashboard shows announces it on ``CHANNEL``: a prediction-log
flusher after rows reached the database (``predictions``, in the service and in the Celery
worker alike), the corrections routes (``corrections``), and the task records' own Lua scripts
(``task``, ``service.tasks.records``). An event says only *that* something changed; the figures
themselves are always read from the database and Redis (``service.live.figures``), so an event
lost costs nothing but a moment's delay.

:class:`EventPublisher` keeps Redis off every caller's path: ``publish`` puts the event in a
bounded queue and returns; one daemon thread sends them. When the queue is full, or Redis did
not answer within ``TIMEOUT_S`` in the last ``RETRY_AFTER_S`` seconds, events are dropped (and
counted), so a missing Redis never slows or fails a prediction.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from typing import Any

import redis

CHANNEL = "digitify:events"
PREDICTIONS, CORRECTIONS, TASK = "predictions", "corrections", "task"
MAX_WAITING = 1000
TIMEOUT_S = 0.5
RETRY_AFTER_S = 5.0

logger = logging.getLogger(__name__)


def encode(kind: str, **fields: Any) -> str:
    """The JSON text of an event of ``kind`` with its fields."""
    return json.dumps({"kind": kind, **fields}, separators=(",", ":"))


class EventPublisher:
    """Publishes events on ``CHANNEL`` from a background thread; drops them while Redis is away."""

    def __init__(self, redis_url: str, max_waiting: int = MAX_WAITING) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
        self.dropped = 0
        self.sent = 0
        self._waiting: queue.Queue[str | None] = queue.Queue(max_waiting)
        self._down_until = 0.0
        self._thread = threading.Thread(target=self._run, name="digitify-event-publisher", daemon=True)
        self._thread.start()

    def publish(self, kind: str, **fields: Any) -> None:
        """Queue an event for sending and return at once (dropped if the queue is full)."""
        try:
            self._waiting.put_nowait(encode(kind, **fields))
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 2.0) -> None:
        """Send what waits (while Redis answers), stop the thread and release the connection."""
        with contextlib.suppress(queue.Full):
            self._waiting.put(None, timeout=timeout)
        self._thread.join(timeout)
        self.client.close()

    def _run(self) -> None:
        """Send queued events until ``close``; drop them while Redis is known to be away."""
        while (event := self._waiting.get()) is not None:
            if time.monotonic() < self._down_until:
                self.dropped += 1
                continue
            try:
                self.client.publish(CHANNEL, event)
            except (redis.RedisError, OSError) as error:
                self.dropped += 1
                self._down_until = time.monotonic() + RETRY_AFTER_S
                logger.debug("live dashboard event dropped, Redis is away: %s", error)
            else:
                self.sent += 1
