"""Continuous batching of blocking calls on one thread: the calls of concurrent callers become one.

Callers hand their items to :class:`ThreadBatcher` and await the answers. One thread runs the
call: whenever it is free it takes every item waiting (up to ``max_batch``) and runs them in one
call (``service.batching.jobs``: the queue and the settling the inference pool shares), so under
load batches grow by themselves and a lone caller is served at once, with no batching window to
wait out. The service's spool writer is one (``service.predlog.logbook``: the log rows of every
request waiting go in one commit).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic

from service.batching.jobs import Answer, Item, Job, Outcome, outcomes, settle, take

logger = logging.getLogger(__name__)


class BatcherClosedError(RuntimeError):
    """The batcher was closed: its thread is stopped."""


class ThreadBatcher(Generic[Item, Answer]):
    """Runs ``run_batch`` in one thread (called ``name``) on the items of all waiting callers at once."""

    def __init__(
        self, run_batch: Callable[[list[Item]], list[Answer]], max_batch: int = 64, name: str = "digitify-batcher"
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self._jobs: deque[Job[Item, Answer]] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def run(self, items: Sequence[Item]) -> list[Answer]:
        """Run ``items`` (one answer each, in order), sharing one call with whoever else waits."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        job: Job[Item, Answer] = Job(items, loop.create_future(), loop)
        with self._wake:
            if self._closed:
                raise BatcherClosedError("the batcher is shut down")
            self._jobs.append(job)
            self._wake.notify()
        return await job.future

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread once the jobs already queued are answered."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)

    def _take(self) -> list[Job[Item, Answer]] | None:
        """Wait for jobs; take whole jobs until ``max_batch`` items (at least one job). None once closed and empty."""
        with self._wake:
            while not self._jobs and not self._closed:
                self._wake.wait()
            if not self._jobs:
                return None
            return take(self._jobs, self.max_batch)

    def _serve(self) -> None:
        """The thread: take what waits, run it as one batch, hand each caller its answers."""
        while (jobs := self._take()) is not None:
            items = [item for job in jobs for item in job.items]
            try:
                answers = self.run_batch(items)
            except Exception as error:  # a failure fails these callers, not the thread
                logger.exception("%s failed on a batch of %d items", self._thread.name, len(items))
                _hand_back(outcomes(jobs, None, error))
                continue
            _hand_back(outcomes(jobs, answers, None))


def _hand_back(settled: list[Outcome]) -> None:
    """Wake each event loop once for all of its callers' outcomes (one wake-up per loop, not per caller)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in settled:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, mine in by_loop.items():
        try:
            loop.call_soon_threadsafe(settle, mine)
        except RuntimeError:  # the caller's loop is closed: nobody waits for these answers
            continue
