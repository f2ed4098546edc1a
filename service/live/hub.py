"""One worker process's feed of live figures, shared by every dashboard stream it serves.

While at least one stream is open, one asyncio task listens on the events channel
(``service.live.events.CHANNEL``) and, when something changed, reads the figures
(``service.live.figures``) once and hands them to every stream: many open dashboards cost one
subscription and one reading, not one each. Readings follow events at once but at most one per
``THROTTLE_S``, and at least every ``REFRESH_S`` (the minutes roll on). Without Redis the feed
polls: a reading every ``POLL_S``, marked ``polling``, and another try at Redis every
``RECONNECT_S``; once subscribed again it reads at once, so nothing missed meanwhile is lost.
The task stops with the last stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import anyio
import redis
import redis.asyncio

from service.live.events import CHANNEL, TIMEOUT_S
from service.live.figures import LIVE, POLLING, LiveFigures, Mode

THROTTLE_S = 0.5
REFRESH_S = 10.0
POLL_S = 2.0
RECONNECT_S = 10.0

logger = logging.getLogger(__name__)


class LiveHub:
    """Feeds the latest figures to every open stream of this process."""

    def __init__(self, redis_url: str, read: Callable[[Mode], LiveFigures]) -> None:
        self.redis_url = redis_url
        self.read = read
        self.mode: Mode = POLLING
        self._streams: set[asyncio.Queue[LiveFigures]] = set()
        self._task: asyncio.Task[None] | None = None
        self._settled: asyncio.Event | None = None  # set once the feed subscribed, or found Redis away

    @contextlib.asynccontextmanager
    async def stream(self) -> AsyncIterator[asyncio.Queue[LiveFigures]]:
        """A queue that always holds the newest figures not yet taken, while the context lasts.

        Entered once the feed knows its ``mode`` (subscribed, or Redis found away).
        """
        updates: asyncio.Queue[LiveFigures] = asyncio.Queue(maxsize=1)
        self._streams.add(updates)
        if self._task is None or self._task.done():
            self._settled = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="digitify-live-hub")
        if self._settled is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), 4 * TIMEOUT_S)
        try:
            yield updates
        finally:
            self._streams.discard(updates)
            if not self._streams and self._task is not None:
                self._task.cancel()
                self._task = None

    async def figures(self) -> LiveFigures:
        """Read the figures now, in a worker thread (the database is spoken synchronously)."""
        return await anyio.to_thread.run_sync(self.read, self.mode)

    async def _run(self) -> None:
        """Listen for events while Redis answers, poll while it does not; until cancelled."""
        while True:
            try:
                await self._listen()
            except (redis.RedisError, OSError) as error:
                logger.info("live dashboard polls the database, Redis is away: %s", error)
            self.mode = POLLING
            self._settle()
            for _ in range(int(RECONNECT_S / POLL_S)):
                await self._broadcast()
                await asyncio.sleep(POLL_S)

    async def _listen(self) -> None:
        """Subscribe to the events and broadcast fresh figures after each burst of them."""
        client = redis.asyncio.Redis.from_url(self.redis_url, socket_connect_timeout=TIMEOUT_S)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                self.mode = LIVE
                self._settle()
                loop = asyncio.get_running_loop()
                last = loop.time()
                await self._broadcast()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=REFRESH_S)
                    if message is not None:
                        await asyncio.sleep(max(0.0, last + THROTTLE_S - loop.time()))
                        while await pubsub.get_message(ignore_subscribe_messages=True, timeout=0) is not None:
                            pass  # the events of the wait are all answered by the one reading below
                    last = loop.time()
                    await self._broadcast()
        finally:
            await client.aclose()

    def _settle(self) -> None:
        """Say that the feed knows its mode (streams waiting to start go on)."""
        if self._settled is not None:
            self._settled.set()

    async def _broadcast(self) -> None:
        """Read the figures and put them in every stream's queue, replacing what it has not taken yet."""
        if not self._streams:
            return
        try:
            figures = await self.figures()
        except Exception as error:  # the database is down: the streams keep their last figures
            logger.warning("could not read the live dashboard's figures: %s", error)
            return
        for updates in list(self._streams):
            with contextlib.suppress(asyncio.QueueEmpty):
                updates.get_nowait()
            updates.put_nowait(figures)
