"""The live dashboard's stream over real HTTP: two ``bentoml serve`` replicas sharing one Redis and one log.

Replica ``a`` takes the predictions, corrections and tasks; replica ``b`` serves the stream, so
every figure that moves has travelled through Redis pub/sub. No Celery worker runs: a submitted
task stays queued, which is what the dashboard counts. The last test stops Redis to see the
stream fall back to polling the database while predictions go on undisturbed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.service.harness import ADMIN, RedisServer, ServiceProcess, login, register, service_env

FIGURE_WAIT_S = 5.0  # the browser test holds the 2 s bar; this shared machine gets some slack here
START_TIMEOUT_S = 300  # two replicas start on a small, shared machine


@dataclass
class Replicas:
    """Two services on one Redis and one SQLite log, and the admin's token (valid on both)."""

    a: str
    b: str
    admin_token: str
    redis: RedisServer


@pytest.fixture(scope="module")
def replicas(model_env, redis_server: RedisServer, tmp_path_factory) -> Iterator[Replicas]:
    """Start two replicas of the service (each with its own spool) sharing the log and the module's Redis."""
    work = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{work / 'predictions.db'}"
    processes = []
    try:
        for name in ("a", "b"):
            folder = work / name
            folder.mkdir()
            env = {**service_env(database_url, folder, model_env), "REDIS_URL": redis_server.url}
            processes.append(ServiceProcess(env, cwd=folder).start(timeout=START_TIMEOUT_S))
        token = login(processes[0].url, *ADMIN)
        yield Replicas(processes[0].url, processes[1].url, token, redis_server)
    finally:
        for process in processes:
            process.stop()


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def ticket(url: str, token: str) -> str:
    """A live-stream ticket from the replica at ``url``."""
    answer = httpx.post(f"{url}/admin/live/ticket", headers=bearer(token), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["expires_in"] == 30
    return answer.json()["ticket"]


class Stream:
    """An open ``/admin/live`` stream: its events, read one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> tuple[int, dict]:
        """The next ``figures`` event's id and data (heartbeats and ``retry`` lines skipped)."""
        event_id, data = None, None
        for line in self.lines:
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                return event_id, data
        raise AssertionError("the stream ended")

    def until(self, wanted, timeout: float = FIGURE_WAIT_S) -> tuple[dict, float]:
        """The first figures for which ``wanted(figures)`` holds, and the seconds it took; fail after ``timeout``."""
        started = time.monotonic()
        while True:
            _, figures = self.next()
            waited = time.monotonic() - started
            if wanted(figures):
                return figures, waited
            assert waited < timeout, figures


@pytest.fixture
def stream(replicas) -> Iterator[Stream]:
    """A stream of replica ``b``, opened with a ticket replica ``a`` issued."""
    params = {"ticket": ticket(replicas.a, replicas.admin_token)}
    with httpx.stream("GET", f"{replicas.b}/admin/live", params=params, timeout=30) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def predict(url: str, token: str, image: bytes) -> dict:
    """A prediction of ``image`` through ``/predict``."""
    answer = httpx.post(f"{url}/predict", headers=bearer(token), files={"image": ("n.png", image)}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_only_an_admin_opens_the_stream_and_only_with_a_token_or_ticket(replicas):
    user_token = register(replicas.a, "live-watcher", "password-live-watcher")
    live = f"{replicas.b}/admin/live"
    assert httpx.get(live, timeout=30).status_code == 401
    assert httpx.get(live, params={"ticket": "not-a-ticket"}, timeout=30).status_code == 401
    assert httpx.get(live, params={"ticket": replicas.admin_token}, timeout=30).status_code == 401  # token ≠ ticket
    assert httpx.get(live, headers=bearer(user_token), timeout=30).status_code == 403
    assert httpx.post(f"{replicas.a}/admin/live/ticket", timeout=30).status_code == 401
    assert httpx.post(f"{replicas.a}/admin/live/ticket", headers=bearer(user_token), timeout=30).status_code == 403


def test_a_ticket_opens_one_stream_only(replicas):
    spent = ticket(replicas.b, replicas.admin_token)
    with httpx.stream("GET", f"{replicas.a}/admin/live", params={"ticket": spent}, timeout=30) as response:
        assert response.status_code == 200
        event_id, figures = Stream(response).next()
    assert event_id == 1 and figures["mode"] == "live" and len(figures["per_minute"]) == 15
    for url in (replicas.a, replicas.b):
        again = httpx.get(f"{url}/admin/live", params={"ticket": spent}, timeout=30)
        assert again.status_code == 401 and "used already" in again.json()["error"]


def test_a_reconnect_goes_on_after_the_last_event_it_saw(replicas):
    headers = {**bearer(replicas.admin_token), "Last-Event-ID": "41"}
    with httpx.stream("GET", f"{replicas.b}/admin/live", headers=headers, timeout=30) as response:
        event_id, figures = Stream(response).next()
    assert event_id == 42 and "predictions" in figures  # a full reading first


def test_a_prediction_on_one_replica_moves_the_other_replicas_stream(replicas, stream, number_png):
    _, before = stream.next()
    predict(replicas.a, replicas.admin_token, number_png)
    after, waited = stream.until(lambda figures: figures["predictions"] > before["predictions"])
    assert after["predictions"] == before["predictions"] + 1
    assert after["per_minute"][-1]["count"] >= 1 and after["latency_ms"]["p50"] is not None
    assert after["mode"] == "live"
    print(f"prediction seen in the other replica's stream after {waited:.2f} s")


def test_queued_tasks_and_pending_corrections_move_the_stream(replicas, stream, number_png):
    _, before = stream.next()
    assert before["tasks"] is not None
    files = [("images", ("n.png", number_png))] * 2
    task = httpx.post(f"{replicas.a}/predict_async/submit", headers=bearer(replicas.admin_token), files=files)
    assert task.status_code == 200, task.text
    queued = before["tasks"]["queued"] + 1
    stream.until(lambda figures: figures["tasks"]["queued"] == queued)
    cancel = httpx.put(
        f"{replicas.a}/predict_async/cancel", headers=bearer(replicas.admin_token), params=task.json(), timeout=30
    )
    assert cancel.status_code == 200, cancel.text
    stream.until(lambda figures: figures["tasks"]["queued"] == queued - 1)

    log_id = predict(replicas.a, replicas.admin_token, number_png)["log_id"]
    corrected = httpx.post(
        f"{replicas.a}/corrections", headers=bearer(replicas.admin_token), json={"log_id": log_id, "text": "7"}
    )
    assert corrected.status_code == 201, corrected.text
    after, _ = stream.until(lambda figures: figures["corrections_pending"] == before["corrections_pending"] + 1)
    assert after["newest_corrections"][0]["log_id"] == log_id
    assert after["newest_corrections"][0]["corrected_text"] == "7"


def test_without_redis_predictions_go_on_and_the_stream_polls(replicas, number_png):
    replicas.redis.stop()
    try:
        started = time.monotonic()
        predict(replicas.a, replicas.admin_token, number_png)
        assert time.monotonic() - started < 5  # no wait on the missing Redis
        spent = ticket(replicas.b, replicas.admin_token)
        with httpx.stream("GET", f"{replicas.b}/admin/live", params={"ticket": spent}, timeout=30) as response:
            live = Stream(response)
            polled, _ = live.until(lambda figures: figures["mode"] == "polling")
            assert polled["tasks"] is None
            predict(replicas.a, replicas.admin_token, number_png)
            live.until(lambda figures: figures["predictions"] > polled["predictions"], timeout=10)
        assert httpx.get(f"{replicas.b}/admin/live", params={"ticket": spent}, timeout=30).status_code == 401
    finally:
        replicas.redis.start()
