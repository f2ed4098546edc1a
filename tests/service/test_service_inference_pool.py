"""The inference pool: requests share batches sent from the event loop; a dead process is noticed and replaced."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import uvloop

from models.recognizer import Recognizer, random_model_file
from service.prediction.pool import InferencePool, PoolClosedError
from service.prediction.process import InferenceConfig, InferenceProcess, InferenceProcessError, Reading, Upload
from tests.configs import small_config
from tests.drawing import draw_number
from tests.service.harness import png_bytes, run_loop

TEXTS = ["1", "22", "3.3", "444", "5.55", "6", "77.7", "8888"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained model of the tests' small configuration."""
    return random_model_file(tmp_path_factory.mktemp("pool") / "model.pt", small_config())


@pytest.fixture(scope="module")
def images() -> list[bytes]:
    """One drawn number per text."""
    return [png_bytes(draw_number(text)) for text in TEXTS]


class CountingProcess(InferenceProcess):
    """An inference process that remembers the size of each batch it was sent, and tells when it restarts."""

    def __init__(self, config: InferenceConfig) -> None:
        super().__init__(config)
        self.batches: list[int] = []
        self.restarting = threading.Event()
        self.restarted = threading.Event()

    def send(self, uploads: list[Upload]) -> None:
        self.batches.append(len(uploads))
        super().send(uploads)

    def restart(self) -> None:
        self.restarting.set()
        super().restart()
        self.restarted.set()


def processes(model_file: Path, count: int) -> list[CountingProcess]:
    """``count`` started inference processes of the small model."""
    config = InferenceConfig(model_file, "v-test", torch_threads=1, max_upload_bytes=64 * 1024)
    return [CountingProcess(config) for _ in range(count)]


def test_concurrent_requests_share_batches_and_get_the_readings_of_their_own_uploads(model_file, images):
    expected = [reading.text for reading in Recognizer.from_file(model_file).predict(images)]
    workers = processes(model_file, 2)
    pool = InferencePool(workers, max_batch=4)

    async def clients() -> list[list[Reading]]:
        requests = [[Upload(images[i % 8]), Upload(images[(i + 3) % 8])] for i in range(24)]
        return await asyncio.gather(*(pool.infer(request) for request in requests))

    try:
        answers = run_loop(clients())
    finally:
        pool.close()
    for i, answer in enumerate(answers):
        assert [reading.text for reading in answer] == [expected[i % 8], expected[(i + 3) % 8]]
    batches = workers[0].batches + workers[1].batches
    assert sum(batches) == 48 and max(batches) <= 4
    assert len(batches) < 24  # requests were merged into batches
    assert workers[0].batches and workers[1].batches  # both read while the other was busy


def test_one_request_at_a_time_keeps_going_to_the_process_that_answered_last(model_file, images):
    workers = processes(model_file, 2)
    pool = InferencePool(workers)

    async def one_after_another() -> list[str | None]:
        texts = []
        for i in range(12):
            [reading] = await pool.infer([Upload(images[i % 8])])
            texts.append(reading.text)
        return texts

    try:
        texts = run_loop(one_after_another())
    finally:
        pool.close()
    assert len(texts) == 12
    # Taking turns, the two would each have read six: the warm one reads them all.
    assert sorted([len(workers[0].batches), len(workers[1].batches)]) == [0, 12]


def test_a_process_that_dies_fails_its_batch_and_an_idle_one_that_dies_is_replaced_at_once(model_file, images):
    workers = processes(model_file, 2)
    pool = InferencePool(workers)

    async def scenario() -> tuple[list[Reading], BaseException, list[Reading], bool]:
        [before] = await pool.infer([Upload(images[0])])  # both processes are watched from here on
        busy, idle = workers[0], workers[1]
        if busy.batches == []:
            busy, idle = idle, busy
        idle_pid = idle._process.pid
        idle._process.kill()  # idle: nothing to fail, but the pool notices and starts it again
        busy._process.kill()
        busy._process.join(10)
        failure = None
        try:
            await pool.infer([Upload(images[1])])  # goes to the dead one: the top of the idle stack
        except InferenceProcessError as error:
            failure = error
        deadline = time.monotonic() + 60
        while (idle._process is None or idle._process.pid == idle_pid or pool._idle == []) and (
            time.monotonic() < deadline
        ):
            await asyncio.sleep(0.2)
        replaced = idle._process is not None and idle._process.pid != idle_pid and idle._process.is_alive()
        after = await pool.infer([Upload(images[0])])
        return [before], failure, after, replaced

    try:
        before, failure, after, replaced = run_loop(scenario())
    finally:
        pool.close()
    assert isinstance(failure, InferenceProcessError) and "died" in str(failure)
    assert replaced
    assert [(r.text, r.confidence) for r in after] == [(r.text, r.confidence) for r in before]


def test_a_restart_cut_short_by_the_end_of_the_loop_leaves_the_starting_process_unwatched(model_file, images):
    """The loop must not watch a pipe whose "ready" message a restart thread still waits for.

    When the loop ends, its tasks are cancelled, the restart's task too, while its thread goes on
    starting the process. Had the pool watched that pipe, the loop and the thread would have raced
    for "ready": the loser blocks on an empty pipe for good (an event loop, or a shutdown, hung).
    """
    [worker] = processes(model_file, 1)
    pool = InferencePool([worker])

    async def kill_and_wait_for_the_restart() -> None:
        await pool.infer([Upload(images[0])])  # the process is watched from here on
        worker._process.kill()
        while not worker.restarting.is_set():
            await asyncio.sleep(0.01)

    def scenario() -> tuple[bool, list[Reading]]:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(kill_and_wait_for_the_restart())
            for task in asyncio.all_tasks(loop):  # what the end of ``asyncio.run`` does
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0.1))  # the cancelled restart's callback runs
            watched = worker in pool._watched
            assert worker.restarted.wait(60)  # the thread finishes starting the process
            worker.send([Upload(images[0])])
            return watched, worker.receive()
        finally:
            pool.close()
            loop.close()

    with ThreadPoolExecutor(1) as thread:
        watched, readings = thread.submit(scenario).result()
    assert not watched
    assert len(readings) == 1 and readings[0].error is None


def test_a_closed_pool_refuses_and_fails_what_waits(model_file, images):
    workers = processes(model_file, 1)
    pool = InferencePool(workers)

    async def scenario() -> list[BaseException | list[Reading]]:
        pending = [asyncio.ensure_future(pool.infer([Upload(images[i % 8])])) for i in range(6)]
        await asyncio.sleep(0)  # all six are queued, one is in flight
        pool.close()
        results = await asyncio.gather(*pending, return_exceptions=True)
        try:
            await pool.infer([Upload(images[0])])
        except PoolClosedError as error:
            results.append(error)
        return results

    results = run_loop(scenario())
    assert all(isinstance(result, PoolClosedError) for result in results)
    assert len(results) == 7
    with pytest.raises(ValueError, match="at least one"):
        InferencePool([])


def test_uploads_larger_than_the_pipe_buffer_cross_under_uvloop(model_file, images):
    """The service runs on uvloop, which makes watched descriptors non-blocking: a 2 MB upload must still arrive."""
    workers = processes(model_file, 1)
    pool = InferencePool(workers)
    large = images[0] + b"\0" * (2 * 1024 * 1024)

    async def scenario() -> list[Reading]:
        return await pool.infer([Upload(large), Upload(images[1])])

    def on_uvloop(coroutine: Coroutine[Any, Any, list[Reading]]) -> list[Reading]:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)

    try:
        with ThreadPoolExecutor(1) as thread:  # the loop's whole life in a thread of its own, as in run_loop
            too_large, fine = thread.submit(on_uvloop, scenario()).result()
    finally:
        pool.close()
    assert too_large.status == 413 and too_large.nbytes == len(large)  # read whole, refused for its size
    assert fine.error is None and fine.text is not None
