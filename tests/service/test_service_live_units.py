"""The live dashboard's parts on a real Redis and real databases: events, task counts, tickets, figures, the feed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta

import pytest
import redis

from service.accounts.tokens import AuthError, decode_token, issue_token
from service.accounts.users import Account
from service.core.config import load_settings
from service.db.engine import make_engine, migrate, session_factory
from service.db.queries import recent
from service.db.tables import PredictionLog
from service.live.events import CHANNEL, EventPublisher
from service.live.figures import LIVE, POLLING, LiveFigures, minute_starts, read_figures
from service.live.hub import LiveHub
from service.live.tickets import LiveTickets
from service.predlog.logbook import Logbook
from service.predlog.spool import Spool
from service.tasks.queue import TaskQueue
from service.tasks.records import ACTIVE, PREFIX, TaskRecords
from tests.service.harness import JWT_SECRET, free_port, run_loop
from tests.service.test_service_database import database_url, engine, log_row  # noqa: F401 (fixtures)

ADMIN = Account(username="root", role="admin", is_active=True, token_version=3)


@pytest.fixture
def client(redis_server) -> redis.Redis:
    return redis.Redis.from_url(redis_server.url)


def nowhere() -> str:
    """The URL of a Redis that is not there."""
    return f"redis://127.0.0.1:{free_port()}/0"


def listen(client: redis.Redis) -> redis.client.PubSub:
    """A subscription to the events channel, confirmed."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    assert pubsub.get_message(timeout=2) is None  # the subscription's confirmation, skipped
    return pubsub


def events(pubsub: redis.client.PubSub, count: int, timeout: float = 5) -> list[dict]:
    """The next ``count`` events of a subscription."""
    received: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message is not None:
            received.append(json.loads(message["data"]))
    return received


def test_published_events_reach_a_subscriber(client, redis_server):
    pubsub = listen(client)
    publisher = EventPublisher(redis_server.url)
    publisher.publish("predictions", rows=3)
    publisher.publish("corrections")
    assert events(pubsub, 2) == [{"kind": "predictions", "rows": 3}, {"kind": "corrections"}]
    publisher.close()
    assert publisher.sent == 2 and publisher.dropped == 0


def test_without_redis_publishing_costs_nothing_and_drops_the_events():
    publisher = EventPublisher(nowhere(), max_waiting=100)
    started = time.perf_counter()
    for _ in range(5000):
        publisher.publish("predictions", rows=1)
    assert time.perf_counter() - started < 0.5  # never waits for Redis
    publisher.close()
    assert publisher.sent == 0 and publisher.dropped == 5000


def test_task_changes_keep_the_active_count_and_are_announced(client):
    records = TaskRecords(client, ttl=60)
    task = f"t-{uuid.uuid4().hex[:8]}"
    pubsub = listen(client)
    records.create(task, "ann", [b"a", b"b"])
    records.create(f"{task}-2", "ann", [b"a"])
    assert records.active() == {"queued": 2, "running": 0}
    assert records.claim(task) == 0
    assert records.active() == {"queued": 1, "running": 1}
    assert records.cancel(f"{task}-2") == (True, "canceled")
    assert records.finish(task, "done")
    assert records.active() == {"queued": 0, "running": 0}
    statuses = [event["status"] for event in events(pubsub, 5)]
    assert statuses == ["queued", "queued", "running", "canceled", "done"]


def test_a_task_whose_record_expired_leaves_the_count(client):
    records = TaskRecords(client, ttl=60)
    task = f"t-{uuid.uuid4().hex[:8]}"
    records.create(task, "ann", [b"a"])
    assert records.active()["queued"] >= 1
    client.delete(f"{PREFIX}{task}")  # as if its keys had expired
    records.active()
    assert client.hget(ACTIVE, task) is None


def test_a_ticket_opens_one_stream_on_any_replica_and_only_as_a_ticket(redis_server):
    replica_a = LiveTickets(JWT_SECRET, redis.Redis.from_url(redis_server.url))
    replica_b = LiveTickets(JWT_SECRET, redis.Redis.from_url(redis_server.url))
    ticket = replica_a.issue(ADMIN)
    claims = replica_b.redeem(ticket)
    assert (claims.username, claims.role, claims.version) == ("root", "admin", 3)
    for replica in (replica_a, replica_b):
        with pytest.raises(AuthError, match="used already"):
            replica.redeem(ticket)
    with pytest.raises(AuthError):
        decode_token(JWT_SECRET, replica_a.issue(ADMIN))  # a ticket is no access token
    with pytest.raises(AuthError):
        replica_a.redeem(issue_token(JWT_SECRET, "root", "admin", 30, version=3))  # nor a token a ticket
    with pytest.raises(AuthError, match="expired"):
        replica_a.redeem(replica_a.issue(ADMIN, now=time.time() - 60))


def test_without_redis_a_ticket_is_still_single_use_in_its_process():
    tickets = LiveTickets(JWT_SECRET, redis.Redis.from_url(nowhere(), socket_connect_timeout=0.5))
    ticket = tickets.issue(ADMIN)
    assert tickets.redeem(ticket).username == "root"
    with pytest.raises(AuthError, match="used already"):
        tickets.redeem(ticket)


def test_recent_counts_minutes_shares_and_latency(engine):  # noqa: F811 (a fixture)
    now = datetime(2026, 11, 20, 12, 30, 40)
    minutes = minute_starts(now)
    assert len(minutes) == 15 and minutes[-1] == datetime(2026, 11, 20, 12, 30)
    rows = [
        log_row(created_at=now - timedelta(minutes=20)),  # before the window
        log_row(created_at=minutes[0], latency_ms=1.0),
        log_row(created_at=minutes[3] + timedelta(seconds=59), confidence=0.2, latency_ms=2.0),
        log_row(created_at=now, outcome="rejected", text=None, confidence=None, latency_ms=3.0),
        log_row(created_at=now - timedelta(seconds=5), latency_ms=100.0),
    ]
    with engine.begin() as connection:
        connection.execute(PredictionLog.__table__.insert(), rows)
    with session_factory(engine)() as session:
        window = recent(session, minutes, low_confidence=0.5)
    assert window["per_minute"] == [1, 0, 0, 1, *[0] * 10, 2]
    assert (window["total"], window["ok"], window["rejected"], window["low_confidence"]) == (4, 3, 1, 1)
    assert window["latency_ms"] == {"p50": 2.0, "p95": 100.0, "p99": 100.0}


def test_figures_say_when_tasks_cannot_be_counted(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log_engine = make_engine(url)
    migrate(log_engine)
    monkeypatch.setenv("DIGITIFY_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("REDIS_URL", nowhere())
    queue = TaskQueue(load_settings())
    figures = read_figures(session_factory(log_engine), queue, 0.5, POLLING)
    assert (figures.predictions, figures.corrections_pending, figures.tasks) == (0, 0, None)
    assert figures.mode == POLLING and len(figures.per_minute) == 15
    log_engine.dispose()


def test_a_flush_that_moved_rows_is_announced(tmp_path):
    log_engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    logbook = Logbook(Spool(tmp_path / "spool.db"), log_engine, lambda: migrate(log_engine))
    heard: list[int] = []
    logbook.on_flushed = heard.append
    logbook.record([log_row(), log_row()])
    assert logbook.flush() == 2 and logbook.flush() == 0
    assert heard == [2]  # once, for the flush that moved rows
    log_engine.dispose()


def fake_figures(mode: str) -> LiveFigures:
    """Figures that say only their mode and when they were read."""
    return LiveFigures.model_validate(
        {
            "generated_at": f"{time.monotonic()}",
            "mode": mode,
            "window_minutes": 15,
            "per_minute": [],
            "predictions": 0,
            "rejected_share": None,
            "low_confidence_share": None,
            "low_confidence_threshold": 0.5,
            "latency_ms": {},
            "corrections_pending": 0,
            "newest_corrections": [],
            "tasks": None,
        }
    )


def test_the_feed_answers_an_event_at_once_and_polls_without_redis(redis_server):
    async def scenario() -> tuple[str, float, str]:
        hub = LiveHub(redis_server.url, fake_figures)
        async with hub.stream() as updates:
            assert hub.mode == LIVE  # a stream starts once the feed knows its mode
            first = await asyncio.wait_for(updates.get(), 5)  # read as soon as it subscribed
            await asyncio.sleep(0.6)  # past the throttle
            started = time.monotonic()
            publisher = EventPublisher(redis_server.url)
            publisher.publish("predictions", rows=1)
            second = await asyncio.wait_for(updates.get(), 5)
            publisher.close()
            assert second.generated_at != first.generated_at
            return first.mode, time.monotonic() - started, second.mode

    first_mode, delay, second_mode = run_loop(scenario())
    assert (first_mode, second_mode) == (LIVE, LIVE)
    assert delay < 1.0

    async def without_redis() -> str:
        async with LiveHub(nowhere(), fake_figures).stream() as updates:
            return (await asyncio.wait_for(updates.get(), 5)).mode

    assert run_loop(without_redis()) == POLLING
