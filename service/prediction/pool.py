"""The worker's inference processes, driven from its event loop: continuous batching with no thread in between.

Requests hand their uploads to :class:`InferencePool` and await the readings. Whenever an inference
process is idle and uploads wait, the pool sends it everything waiting (whole requests, up to
``max_batch`` uploads) as one batch (``service.batching.jobs``: the queue and settling the spool
writer shares). It reads the reply when the process's end of the pipe becomes
readable (``loop.add_reader``). So under load batches grow by themselves, a lone request is sent at
once with no batching window, and nothing wakes a thread between the event loop and the process:
on a small virtual machine each such wake-up cost a few tenths of a millisecond, each way.

The process that went idle last gets the next batch, so a lightly loaded service keeps using one
process, whose caches are warm. A process that dies, busy or idle, is noticed at once: it fails
the batch it held (``InferenceProcessError``: its callers answer 503) and is started again on a
thread, while the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence

from service.batching.jobs import Job, outcomes, settle, take
from service.prediction.process import (
    InferenceProcess,
    InferenceProcessDiedError,
    InferenceProcessError,
    Reading,
    Upload,
)

logger = logging.getLogger(__name__)
RETRY_SECONDS = 5.0  # between attempts to start again a process that could not start


class PoolClosedError(RuntimeError):
    """The pool was closed: no inference process is left to answer."""


class InferencePool:
    """Sends the uploads of every waiting request to whichever inference process is idle, from one event loop.

    The pool watches every process's pipe from its first request on: a busy process's pipe turns
    readable when the readings are back, an idle one's only when the process died, which is so
    noticed at once and the process started again.
    """

    def __init__(self, processes: Sequence[InferenceProcess], max_batch: int = 64) -> None:
        if not processes:
            raise ValueError("at least one inference process is needed")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.processes = list(processes)
        self.max_batch = max_batch
        self._idle: list[InferenceProcess] = []  # a stack: the process that went idle last is on top
        self._busy: dict[InferenceProcess, list[Job[Upload, Reading]]] = {}
        self._watched: dict[InferenceProcess, int] = {}  # the pipe each process is watched on
        self._waiting: deque[Job[Upload, Reading]] = deque()
        self._restarts: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.observer: Callable[[int, float], None] | None = None  # (uploads in a batch, seconds its oldest waited)

    async def infer(self, uploads: Sequence[Upload]) -> list[Reading]:
        """Read ``uploads`` (one reading each, in order), in one batch with whatever else waits."""
        if not uploads:
            return []
        if self._closed:
            raise PoolClosedError("the model is shut down")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            for process in self.processes:
                self._back(process)
        elif loop is not self._loop:
            raise RuntimeError("an inference pool serves the one event loop it first ran on")
        job: Job[Upload, Reading] = Job(uploads, loop.create_future(), loop)
        self._waiting.append(job)
        self._dispatch()
        return await job.future

    def close(self) -> None:
        """Stop the inference processes; requests still waiting or in flight fail (their callers answer 503)."""
        self._closed = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._fail_all()
            else:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                    loop.call_soon_threadsafe(self._fail_all)
        for process in self.processes:
            process.close()

    def _back(self, process: InferenceProcess) -> None:
        """Watch a (new or restarted) process's pipe and count it idle."""
        assert self._loop is not None
        try:
            fd = process.fileno()
        except InferenceProcessError:  # closed while it was being started again
            return
        self._loop.add_reader(fd, self._on_readable, process)
        # uvloop (libuv) makes a watched descriptor non-blocking; the pool's sends and receives are
        # whole messages, which the loop only waits to be readable: keep it blocking.
        os.set_blocking(fd, True)
        self._watched[process] = fd
        self._idle.append(process)

    def _unwatch(self, process: InferenceProcess) -> None:
        """Stop watching a process's pipe (before it is restarted or closed)."""
        fd = self._watched.pop(process, None)
        if fd is not None and self._loop is not None:
            self._loop.remove_reader(fd)
        if process in self._idle:
            self._idle.remove(process)

    def _dispatch(self) -> None:
        """Send what waits to idle processes, one batch each, until either runs out."""
        while self._waiting and self._idle and not self._closed:
            jobs = take(self._waiting, self.max_batch, drop_done=True)
            if not jobs:
                return
            process = self._idle.pop()
            self._busy[process] = jobs
            if self.observer is not None:
                self.observer(sum(len(job.items) for job in jobs), time.monotonic() - jobs[0].queued_at)
            try:
                process.send([upload for job in jobs for upload in job.items])
            except InferenceProcessDiedError as error:
                self._busy.pop(process, None)
                _settle(jobs, None, error)
                self._restart(process)

    def _on_readable(self, process: InferenceProcess) -> None:
        """A process answered (or died): hand each caller its readings, then send it what waits.

        A wake-up with nothing in the pipe should not happen: it is logged and ignored, since a
        blocking read here would stop the event loop. (It did happen while the pool watched a pipe
        whose process a thread was still starting; see ``_restart``.)
        """
        if not process.has_reply():
            logger.error("an inference process's pipe woke the event loop with nothing in it")
            return
        jobs = self._busy.pop(process, [])
        try:
            readings = process.receive()
        except InferenceProcessDiedError as error:
            _settle(jobs, None, error)
            self._restart(process)
        except InferenceProcessError as error:  # the model failed on this batch; the process goes on
            _settle(jobs, None, error)
            self._now_idle(process)
        else:
            if jobs:
                _settle(jobs, readings, None)
            else:
                logger.error("an idle inference process sent %d readings nobody asked for", len(readings))
            self._now_idle(process)
        self._dispatch()

    def _now_idle(self, process: InferenceProcess) -> None:
        """Put a process on top of the idle stack (once)."""
        if process in self._idle:
            self._idle.remove(process)
        self._idle.append(process)

    def _restart(self, process: InferenceProcess) -> None:
        """Start a dead process again on a thread; it takes batches again once its model is loaded.

        If it cannot start, the requests waiting for a process fail (503) rather than wait, and it
        is tried again ``RETRY_SECONDS`` later. If the loop ends first (the restart's task is
        cancelled), the process stays unwatched, and ``close`` stops it once the thread is done.
        """
        self._unwatch(process)
        if self._closed:
            return
        assert self._loop is not None
        task = self._loop.create_task(asyncio.to_thread(process.restart))
        self._restarts.add(task)

        def restarted(done: asyncio.Task[None]) -> None:
            self._restarts.discard(done)
            if self._closed or done.cancelled():
                # Cancelled: the loop is ending, and its thread may still be starting the process. Its
                # pipe must not be watched: the loop would race that thread for the "ready" message.
                return
            error = done.exception()
            if error is None:
                self._back(process)
                self._dispatch()
                return
            if not self._idle and not self._busy:
                _settle(list(self._waiting), None, error)
                self._waiting.clear()
            assert self._loop is not None
            self._loop.call_later(RETRY_SECONDS, self._restart, process)

        task.add_done_callback(restarted)

    def _fail_all(self) -> None:
        """At shutdown: stop watching, and fail the requests in flight and those still waiting."""
        closed = PoolClosedError("the model is shut down")
        for process in list(self._watched):
            self._unwatch(process)
        for jobs in self._busy.values():
            _settle(jobs, None, closed)
        self._busy.clear()
        _settle(list(self._waiting), None, closed)
        self._waiting.clear()


def _settle(jobs: list[Job[Upload, Reading]], readings: list[Reading] | None, error: BaseException | None) -> None:
    """Give each job its slice of the readings, or the error; callers who left are skipped."""
    settle(outcomes(jobs, readings, error))
