"""Continuous batching of model calls inside one worker: concurrent requests share one model call.

Requests hand their normalized images to :class:`ModelBatcher` and await the answers. One thread
runs the model: whenever it is free it takes every image waiting (up to ``max_batch``) and reads
them in one call, so under load batches grow by themselves and an idle service answers a lone
request at once, with no batching window to wait out. This replaces BentoML's adaptive batching
of an internal route, which in BentoML 1.4 is reached through an HTTP call back into the same
process: that round trip (JSON and base64 of every image, a second pass through the middleware)
cost more than the model itself.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

Answer = TypeVar("Answer")
logger = logging.getLogger(__name__)


@dataclass
class _Job(Generic[Answer]):
    """One caller's images and the future its answers go to."""

    arrays: Sequence[np.ndarray]
    future: asyncio.Future[list[Answer]]
    loop: asyncio.AbstractEventLoop


class BatcherClosedError(RuntimeError):
    """The batcher was closed: no model thread is left to answer."""


class ModelBatcher(Generic[Answer]):
    """Runs ``run_model`` in one thread on the images of all waiting callers at once."""

    def __init__(self, run_model: Callable[[list[np.ndarray]], list[Answer]], max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.run_model = run_model
        self.max_batch = max_batch
        self._jobs: deque[_Job[Answer]] = deque()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="digitify-model", daemon=True)
        self._thread.start()

    async def infer(self, arrays: Sequence[np.ndarray]) -> list[Answer]:
        """Read ``arrays`` (one answer each, in order), sharing a model call with whoever else waits."""
        if not arrays:
            return []
        loop = asyncio.get_running_loop()
        job = _Job(arrays, loop.create_future(), loop)
        with self._wake:
            if self._closed:
                raise BatcherClosedError("the model is shut down")
            self._jobs.append(job)
            self._wake.notify()
        return await job.future

    def close(self, timeout: float = 5.0) -> None:
        """Stop the model thread once the jobs already queued are answered."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)

    def _take(self) -> list[_Job[Answer]] | None:
        """Wait for jobs; take whole jobs until ``max_batch`` images (at least one job). None once closed and empty."""
        with self._wake:
            while not self._jobs and not self._closed:
                self._wake.wait()
            if not self._jobs:
                return None
            taken = [self._jobs.popleft()]
            count = len(taken[0].arrays)
            while self._jobs and count + len(self._jobs[0].arrays) <= self.max_batch:
                job = self._jobs.popleft()
                taken.append(job)
                count += len(job.arrays)
            return taken

    def _serve(self) -> None:
        """The model thread: take what waits, run it as one batch, hand each caller its answers."""
        while (jobs := self._take()) is not None:
            arrays = [array for job in jobs for array in job.arrays]
            try:
                answers = self.run_model(arrays)
            except Exception as error:  # a model failure fails these callers, not the thread
                logger.exception("the model failed on a batch of %d images", len(arrays))
                for job in jobs:
                    job.loop.call_soon_threadsafe(_settle, job.future, None, error)
                continue
            start = 0
            for job in jobs:
                end = start + len(job.arrays)
                job.loop.call_soon_threadsafe(_settle, job.future, answers[start:end], None)
                start = end


def _settle(future: asyncio.Future, answers: list | None, error: BaseException | None) -> None:
    """Resolve a caller's future unless the caller gave up (a cancelled request)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answers)
