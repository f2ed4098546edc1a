"""Task records in a real Redis: every change of status is decided in one place, and nothing outlives its TTL."""

from __future__ import annotations

import pytest
import redis

from service.tasks.records import PREFIX, TaskRecords
from tests.service.harness import RedisServer


@pytest.fixture(scope="module")
def client(redis_server: RedisServer) -> redis.Redis:
    """A client of the module's throw-away Redis server."""
    return redis.Redis.from_url(redis_server.url)


@pytest.fixture
def records(client) -> TaskRecords:
    """Records that live 60 s once finished."""
    return TaskRecords(client, ttl=60)


def test_a_task_runs_chunk_by_chunk_and_leaves_only_its_record(records, client):
    records.create("t1", "ann", [b"a", b"b", b"c"])
    assert records.find("t1").status == "queued" and records.find("t1").total == 3
    assert records.claim("t1") == 0
    assert records.images("t1", 0, 2) == [b"a", b"b"]
    assert records.commit("t1", 0, [{"index": 0}, {"index": 1}])
    assert not records.commit("t1", 0, [{"index": 0}, {"index": 1}])  # a second delivery at the same place
    assert records.images("t1", 0, 3) == [None, None, b"c"]  # read images leave Redis at once
    assert records.claim("t1") == 2  # a re-delivered task resumes after what was committed
    assert records.commit("t1", 2, [{"index": 2}])
    assert [item["index"] for item in records.items("t1")] == [0, 1, 2]
    assert records.finish("t1", "done")
    assert records.find("t1").status == "done" and records.find("t1").done == 3
    assert [key.decode() for key in client.scan_iter(f"{PREFIX}t1*")] == [f"{PREFIX}t1"]
    assert 0 < client.ttl(f"{PREFIX}t1") <= 60
    assert records.claim("t1") is None  # a late message of a finished task is skipped


def test_cancel_stops_a_running_task_and_retry_resumes_it(records):
    records.create("t2", "bob", [b"a", b"b"])
    assert records.claim("t2") == 0
    assert records.cancel("t2") == (True, "canceled")
    assert records.cancel("t2") == (False, "canceled")
    assert not records.commit("t2", 0, [{"index": 0}])  # the worker stops at its next chunk
    assert records.claim("t2") is None
    assert records.requeue("t2") == (True, "queued")
    assert records.requeue("t2") == (False, "queued")
    assert records.claim("t2") == 0 and records.images("t2", 0, 2) == [b"a", b"b"]


def test_a_failed_task_keeps_its_unread_images_for_a_retry(records, client):
    records.create("t3", "cid", [b"a", b"b"])
    assert records.claim("t3") == 0 and records.commit("t3", 0, [{"index": 0}])
    assert records.finish("t3", "failed", "the model failed")
    failed = records.find("t3")
    assert (failed.status, failed.done, failed.error) == ("failed", 1, "the model failed")
    assert records.images("t3", 1, 2) == [b"b"] and 0 < client.ttl(f"{PREFIX}t3:images") <= 60
    assert records.cancel("t3") == (False, "failed")
    assert records.requeue("t3") == (True, "queued") and records.claim("t3") == 1


def test_unknown_tasks_are_none_of_anyones(records):
    assert records.find("nope") is None
    assert records.claim("nope") is None
    assert records.cancel("nope") == (False, "")
    assert records.requeue("nope") == (False, "")
