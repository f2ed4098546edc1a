"""Async prediction over real HTTP with its real parts: ``bentoml serve``, a Redis server, a Celery worker.

The module starts its own Redis (``harness.RedisServer``), service (SQLite log) and worker
(``scripts/worker.sh``), with a short result TTL and visibility timeout so that expiry and
re-delivery happen within a test. What the BentoML-task version of these tests checked (the
owner's isolation, no retry of a finished task, a 40-image round trip with its log rows, formerly
in ``test_service_http_predict.py``) is here, against Celery.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from models.number_value import parse_value
from service.tasks.celery_app import masked_url
from tests.service.conftest import Server
from tests.service.harness import ADMIN, RedisServer, ServiceProcess, WorkerProcess, login, service_env

RESULT_TTL_S = 8
VISIBILITY_S = 3
KILLED_TASK_IMAGES = 1000  # the most a task takes: seconds of work, room to kill its worker in the middle
PATHS = (("GET", "status"), ("GET", "get"), ("POST", "retry"), ("PUT", "cancel"))


@pytest.fixture(scope="module")
def stack(model_env, tmp_path_factory, redis_server) -> Iterator[tuple[Server, WorkerProcess, dict[str, str]]]:
    """The service and one worker, sharing the Redis and the SQLite prediction log (and their environment)."""
    work = tmp_path_factory.mktemp("tasks")
    database_url = f"sqlite:///{work / 'predictions.db'}"
    env = {
        **service_env(database_url, work, model_env),
        "REDIS_URL": redis_server.url,
        "DIGITIFY_TASK_RESULT_TTL": str(RESULT_TTL_S),
        "DIGITIFY_TASK_VISIBILITY_SECONDS": str(VISIBILITY_S),
    }
    process = ServiceProcess(env, cwd=work).start()
    worker = WorkerProcess(env, cwd=work)
    try:
        worker.start()
        server = Server("sqlite", process.url, database_url, process, login(process.url, *ADMIN), work)
        yield server, worker, env
    finally:
        worker.stop()
        process.stop()


@pytest.fixture
def server(stack) -> Server:
    """The service of this module (its worker running)."""
    server, worker, _ = stack
    if worker.process is None or worker.process.poll() is not None:
        worker.start()
    return server


@pytest.fixture
def worker(stack) -> WorkerProcess:
    """The worker of this module."""
    return stack[1]


def wait_for_status(client: httpx.Client, task_id: str, wanted: set[str], timeout: float = 120) -> dict:
    """Poll a task's status until it is one of ``wanted``; return it."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get("/predict_async/status", params={"task_id": task_id})
        assert status.status_code == 200, status.text
        if status.json()["status"] in wanted:
            return status.json()
        assert time.monotonic() < deadline, status.text
        time.sleep(0.1)


def submit(client: httpx.Client, images: list[bytes]) -> str:
    """Submit a task of these images; return its id."""
    files = [("images", (f"{index}.png", data)) for index, data in enumerate(images)]
    submitted = client.post("/predict_async/submit", files=files)
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["status"] in ("queued", "running", "done") and body["total"] == len(images)
    return body["task_id"]


def client_at(url: str, token: str) -> httpx.Client:
    """An HTTP client for the service instance at ``url``, with a bearer token."""
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def task_keys(redis_server: RedisServer, task_id: str) -> list[bytes]:
    """Every key Redis holds for a task (its record, images, items and Celery's result)."""
    return list(redis.Redis.from_url(redis_server.url).scan_iter(f"*{task_id}*"))


def test_submit_status_get_round_trip_logs_one_row_per_image(server, redis_server, number_png, blank_png):
    username, token = server.new_user()
    with server.client(token) as client:
        task_id = submit(client, [number_png if index % 5 else blank_png for index in range(40)])
        status = wait_for_status(client, task_id, {"done", "failed"})
        assert (status["status"], status["done"], status["total"]) == ("done", 40, 40)
        result = client.get("/predict_async/get", params={"task_id": task_id}).json()
        by_comma = client.get("/predict_async/get", params={"task_id": task_id, "decimal_separator": "comma"})
        bad_rule = client.get("/predict_async/get", params={"task_id": task_id, "decimal_separator": "dot"})
    assert (result["batch_id"], result["count"], result["ok"], result["rejected"]) == (task_id, 40, 32, 8)
    for rule, answer in (("auto", result), ("comma", by_comma.json())):  # values by the fetching request's rule
        for item in answer["results"]:
            expected = parse_value(item["text"], rule) if item["ok"] else None
            assert item["value"] == (expected.value if expected else None)
            assert item["decimal_separator"] == (expected.decimal_separator if expected else None)
    assert bad_rule.status_code == 400 and "decimal_separator must be one of" in bad_rule.json()["error"]
    assert [item["index"] for item in result["results"]] == list(range(40))
    assert "no number found" in result["results"][0]["error"]
    rows = server.wait_for_logs(username, 40)["items"]
    assert len(rows) == 40 and {row["endpoint"] for row in rows} == {"predict_async"}
    assert {row["batch_id"] for row in rows} == {task_id}
    assert {row["id"] for row in rows} == {item["log_id"] for item in result["results"]}
    keys = {key.decode() for key in task_keys(redis_server, task_id)}
    assert not any(key.endswith((":images", ":items")) for key in keys), keys  # images gone once done


def test_another_users_task_is_refused_and_a_finished_task_is_not_run_again(server, number_png):
    _, owner_token = server.new_user()
    _, other_token = server.new_user()
    with server.client(owner_token) as owner, server.client(other_token) as other:
        task_id = submit(owner, [number_png] * 3)
        for method, path in PATHS:
            refused = other.request(method, f"/predict_async/{path}", params={"task_id": task_id})
            assert refused.status_code == 404, (path, refused.text)
            assert "not found" in refused.json()["error"]
        assert wait_for_status(owner, task_id, {"done", "failed"})["status"] == "done"
        result = owner.get("/predict_async/get", params={"task_id": task_id})
        assert result.status_code == 200 and result.json()["count"] == 3
        assert other.get("/predict_async/get", params={"task_id": task_id}).status_code == 404
        for _ in range(3):
            again = owner.post("/predict_async/retry", params={"task_id": task_id})
            assert again.status_code == 409 and "is done: only a failed or cancelled task" in again.json()["error"]
        assert owner.put("/predict_async/cancel", params={"task_id": task_id}).status_code == 409
        assert owner.get("/predict_async/status", params={"task_id": "no-such-task"}).status_code == 404
        assert owner.get("/predict_async/status").status_code == 400
    with server.client(server.admin_token) as admin:
        assert admin.get("/predict_async/get", params={"task_id": task_id}).json()["count"] == 3
    with server.client() as anonymous:
        assert anonymous.get("/predict_async/status", params={"task_id": task_id}).status_code == 401


def test_a_repeated_task_id_is_refused_whatever_its_order(server, number_png):
    _, owner_token = server.new_user()
    _, other_token = server.new_user()
    with server.client(owner_token) as owner, server.client(other_token) as other:
        mine, theirs = submit(owner, [number_png]), submit(other, [number_png])
        for first, second in ((mine, theirs), (theirs, mine), (mine, mine)):
            for method, path in PATHS:
                response = owner.request(method, f"/predict_async/{path}?task_id={first}&task_id={second}")
                assert response.status_code == 400, (path, response.text)
                assert "task_id once" in response.json()["error"]
        assert wait_for_status(other, theirs, {"done"})["done"] == 1  # untouched by the refused requests


def test_cancel_then_retry_reads_every_image_once(server, worker, number_png):
    username, token = server.new_user()
    worker.stop()  # nothing reads the task while it is cancelled
    with server.client(token) as client:
        task_id = submit(client, [number_png] * 20)
        assert wait_for_status(client, task_id, {"queued"})["done"] == 0
        cancelled = client.put("/predict_async/cancel", params={"task_id": task_id})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "canceled", cancelled.text
        assert client.put("/predict_async/cancel", params={"task_id": task_id}).status_code == 409
        assert client.get("/predict_async/get", params={"task_id": task_id}).status_code == 409
        retried = client.post("/predict_async/retry", params={"task_id": task_id})
        assert retried.status_code == 200 and retried.json()["status"] == "queued", retried.text
        assert client.post("/predict_async/retry", params={"task_id": task_id}).status_code == 409
        worker.start()  # two messages wait for the one task: the second finds it done
        assert wait_for_status(client, task_id, {"done", "failed"})["status"] == "done"
        result = client.get("/predict_async/get", params={"task_id": task_id}).json()
    assert result["count"] == 20
    time.sleep(1)
    assert server.wait_for_logs(username, 20)["total"] == 20


def test_a_worker_killed_mid_task_is_replaced_and_every_image_is_logged_once(server, worker, number_png):
    username, token = server.new_user()
    with server.client(token) as client:
        task_id = submit(client, [number_png] * KILLED_TASK_IMAGES)
        running = wait_for_status(client, task_id, {"running", "done"}, timeout=180)
        while running["status"] == "running" and running["done"] == 0:
            time.sleep(0.01)
            running = client.get("/predict_async/status", params={"task_id": task_id}).json()
        assert running["status"] == "running", "the task ended before the worker could be killed"
        worker.kill()
        stopped_at = client.get("/predict_async/status", params={"task_id": task_id}).json()
        assert stopped_at["status"] == "running" and 0 < stopped_at["done"] < KILLED_TASK_IMAGES, stopped_at
        worker.start()
        assert wait_for_status(client, task_id, {"done", "failed"}, timeout=180)["status"] == "done"
        result = client.get("/predict_async/get", params={"task_id": task_id}).json()
    last = KILLED_TASK_IMAGES - 1
    assert f"reading images {stopped_at['done']} to {last}" in worker.log_tail()  # resumed, not read again
    assert [item["index"] for item in result["results"]] == list(range(KILLED_TASK_IMAGES))
    log_ids = {item["log_id"] for item in result["results"]}
    assert len(log_ids) == KILLED_TASK_IMAGES
    rows = server.wait_for_logs(username, KILLED_TASK_IMAGES)
    assert rows["total"] == KILLED_TASK_IMAGES
    with server.client(server.admin_token) as admin:
        for page in range(2, rows["pages"] + 1):
            more = admin.get("/admin/logs", params={"user": username, "page_size": 500, "page": page}).json()
            rows["items"] += more["items"]
    assert {row["id"] for row in rows["items"]} == log_ids


def test_a_task_whose_images_are_gone_fails_and_says_why(server, worker, redis_server, number_png):
    _, token = server.new_user()
    worker.stop()
    with server.client(token) as client:
        task_id = submit(client, [number_png] * 3)
        redis.Redis.from_url(redis_server.url).delete(f"digitify:task:{task_id}:images")
        worker.start()
        failed = wait_for_status(client, task_id, {"done", "failed"})
        assert failed["status"] == "failed" and "no longer held" in failed["error"], failed
        assert client.get("/predict_async/get", params={"task_id": task_id}).status_code == 409
        assert client.post("/predict_async/retry", params={"task_id": task_id}).json()["status"] == "queued"
        assert wait_for_status(client, task_id, {"failed"})["done"] == 0


def test_a_result_expires_after_the_ttl(server, redis_server, number_png):
    _, token = server.new_user()
    with server.client(token) as client:
        task_id = submit(client, [number_png] * 2)
        assert wait_for_status(client, task_id, {"done", "failed"})["status"] == "done"
        assert client.get("/predict_async/get", params={"task_id": task_id}).status_code == 200
        assert task_keys(redis_server, task_id)
        deadline = time.monotonic() + RESULT_TTL_S + 20
        while client.get("/predict_async/status", params={"task_id": task_id}).status_code == 200:
            assert time.monotonic() < deadline, "the task outlived its TTL"
            time.sleep(0.5)
        assert client.get("/predict_async/get", params={"task_id": task_id}).status_code == 404
        time.sleep(1)
    assert task_keys(redis_server, task_id) == []  # Celery's result went with the record


def test_a_task_outlives_a_restart_of_its_service_and_is_read_through_another_instance(
    server, worker, stack, number_png
):
    _, token = server.new_user()
    _, other_token = server.new_user()
    worker.stop()  # the task waits in Redis while the services come and go
    second = ServiceProcess(stack[2], cwd=server.work).start()
    try:
        with server.client(token) as client:
            task_id = submit(client, [number_png] * 5)
        server.process.stop()
        for url in (second.url, server.url):
            if url == server.url:
                server.process.start()  # the first instance again, on its port: nothing of the task was in it
            with client_at(url, token) as owner:
                assert owner.get("/predict_async/status", params={"task_id": task_id}).json()["status"] == "queued"
            with client_at(url, other_token) as other:
                for method, path in PATHS:
                    refused = other.request(method, f"/predict_async/{path}", params={"task_id": task_id})
                    assert refused.status_code == 404, (url, path, refused.text)
        worker.start()
        with client_at(second.url, token) as owner:
            assert wait_for_status(owner, task_id, {"done", "failed"})["status"] == "done"
            assert owner.get("/predict_async/get", params={"task_id": task_id}).json()["count"] == 5
        with server.client(token) as owner:
            assert owner.get("/predict_async/get", params={"task_id": task_id}).json()["count"] == 5
    finally:
        second.stop()
        if server.process.process is None or server.process.process.poll() is not None:
            server.process.start()


def test_a_redis_password_never_appears_in_an_answer():
    assert masked_url("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert masked_url("redis://user:s3cret@cache/1") == "redis://user:***@cache/1"
    assert masked_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_without_redis_async_answers_503_naming_redis_url_and_predict_works(server, redis_server, number_png):
    _, token = server.new_user()
    redis_server.stop()
    try:
        with server.client(token) as client:
            submitted = client.post("/predict_async/submit", files=[("images", ("0.png", number_png))])
            assert submitted.status_code == 503 and "REDIS_URL" in submitted.json()["error"], submitted.text
            status = client.get("/predict_async/status", params={"task_id": "any"})
            assert status.status_code == 503 and "REDIS_URL" in status.json()["error"], status.text
            assert client.post("/predict", files={"image": ("a.png", number_png)}).status_code == 200
            batch = client.post("/predict_batch", files=[("images", ("a.png", number_png))])
            assert batch.status_code == 200
    finally:
        redis_server.start()
    with server.client(token) as client:
        assert client.post("/predict_async/submit", files=[("images", ("0.png", number_png))]).status_code == 200
