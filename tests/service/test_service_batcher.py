"""The thread batcher: concurrent callers share one blocking call, each gets its own answers, failures stay theirs."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from service.batching.thread_batcher import BatcherClosedError, ThreadBatcher
from tests.service.harness import run_loop


class SlowCall:
    """Answers each image with its first pixel, taking 20 ms per call; remembers the batch sizes."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []
        self.threads: set[str] = set()
        self.fail_on: float | None = None

    def __call__(self, arrays: list[np.ndarray]) -> list[float]:
        self.batch_sizes.append(len(arrays))
        self.threads.add(threading.current_thread().name)
        time.sleep(0.02)
        values = [float(array[0, 0]) for array in arrays]
        if self.fail_on in values:
            raise RuntimeError("the call broke")
        return values


def images(*values: float) -> list[np.ndarray]:
    """One tiny image per value, its pixels all that value."""
    return [np.full((32, 16), value, dtype=np.float32) for value in values]


def test_concurrent_requests_share_batches_and_get_their_own_answers():
    call = SlowCall()
    batcher = ThreadBatcher(call, max_batch=8)

    async def clients() -> list[list[float]]:
        return await asyncio.gather(*(batcher.run(images(i, i + 0.5)) for i in range(20)))

    answers = run_loop(clients())
    batcher.close()
    assert answers == [[i, i + 0.5] for i in range(20)]
    assert sum(call.batch_sizes) == 40
    assert max(call.batch_sizes) <= 8
    assert len(call.batch_sizes) < 20  # calls were merged
    assert call.threads == {"digitify-batcher"}


def test_a_lone_request_is_answered_without_waiting_for_company():
    call = SlowCall()
    batcher = ThreadBatcher(call, max_batch=64)

    async def one() -> tuple[list[float], float]:
        started = time.perf_counter()
        answer = await batcher.run(images(7))
        return answer, time.perf_counter() - started

    answer, seconds = run_loop(one())
    batcher.close()
    assert answer == [7.0]
    assert seconds < 0.5  # one 20 ms call, no batching window


def test_a_failure_fails_only_the_batch_it_hit_and_the_batcher_goes_on():
    call = SlowCall()
    call.fail_on = 13.0
    batcher = ThreadBatcher(call, max_batch=1)

    async def clients() -> list:
        return await asyncio.gather(*(batcher.run(images(i)) for i in (12, 13, 14)), return_exceptions=True)

    ok_before, failed, ok_after = run_loop(clients())
    assert ok_before == [12.0] and ok_after == [14.0]
    assert isinstance(failed, RuntimeError) and "broke" in str(failed)
    batcher.close()


def test_a_job_larger_than_the_batch_limit_runs_whole_and_a_closed_batcher_refuses():
    call = SlowCall()
    batcher = ThreadBatcher(call, max_batch=4)
    assert run_loop(batcher.run(images(*range(10)))) == [float(i) for i in range(10)]
    assert run_loop(batcher.run([])) == []
    batcher.close()
    with pytest.raises(BatcherClosedError):
        run_loop(batcher.run(images(1)))
