"""The continuous-batching core both batchers share: callers' jobs wait in a queue, whole jobs make a batch.

A caller hands over its items as one :class:`Job` and awaits the job's future. Whenever the worker
(the spool writer's thread, ``service.batching.thread_batcher``; an idle inference process,
``service.prediction.pool``) is free, it :func:`take` s every job waiting, up to ``max_batch``
items (a job is never split; one larger job runs alone), runs their items in one call, and
:func:`settle` s each job with its slice of the answers, or with the error. So under load batches
grow by themselves, and a lone caller is served at once, with no batching window to wait out.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


@dataclass
class Job(Generic[Item, Answer]):
    """One caller's items, the future its answers go to, the event loop that future belongs to, when it came."""

    items: Sequence[Item]
    future: asyncio.Future[list[Answer]]
    loop: asyncio.AbstractEventLoop
    queued_at: float = field(default_factory=time.monotonic)


Outcome = tuple[Job[Any, Any], list[Any] | None, BaseException | None]


def take(waiting: deque[Job[Item, Answer]], max_batch: int, drop_done: bool = False) -> list[Job[Item, Answer]]:
    """Pop whole jobs from the front of ``waiting`` until ``max_batch`` items (at least one job).

    ``drop_done``: jobs whose caller already left (a cancelled request: its future is done) are
    dropped rather than run; only safe on the thread that owns the futures' loop.
    """
    taken: list[Job[Item, Answer]] = []
    count = 0
    while waiting:
        job = waiting[0]
        if drop_done and job.future.done():
            waiting.popleft()
            continue
        if taken and count + len(job.items) > max_batch:
            break
        taken.append(waiting.popleft())
        count += len(job.items)
    return taken


def outcomes(
    jobs: Sequence[Job[Item, Answer]], answers: Sequence[Answer] | None, error: BaseException | None
) -> list[Outcome]:
    """Each job with its slice of a batch's ``answers`` (in order), or with the batch's ``error``."""
    settled: list[Outcome] = []
    start = 0
    for job in jobs:
        end = start + len(job.items)
        settled.append((job, None if error is not None or answers is None else list(answers[start:end]), error))
        start = end
    return settled


def settle(settled: Sequence[Outcome]) -> None:
    """Resolve each job's future (on its loop's thread) unless its caller gave up."""
    for job, answers, error in settled:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(answers if answers is not None else [])
