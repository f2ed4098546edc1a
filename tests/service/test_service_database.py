"""The schema, the admin queries and the durable log, on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from service.db.engine import alembic_config, make_engine, migrate, session_factory
from service.db.queries import LogFilter, query_logs, stats
from service.db.tables import Base, PredictionLog
from service.predlog.logbook import Logbook
from service.predlog.rows import LogContext, from_spool_row, to_spool_row
from service.predlog.rows import log_row as build_log_row
from service.predlog.spool import Spool


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def log_row(**values):
    row = {
        "id": str(uuid.uuid4()),
        "created_at": datetime(2026, 11, 20, 12, 0),
        "username": "ada",
        "endpoint": "predict",
        "batch_id": None,
        "model_version": "digitify-crnn/v1",
        "outcome": "ok",
        "error": None,
        "text": "42",
        "value": "42",
        "confidence": 0.9,
        "char_confidences": [0.95, 0.95],
        "latency_ms": 5.0,
        "image_width": 100,
        "image_height": 40,
        "image_bytes": 1234,
        "image_sha256": "0" * 64,
    }
    row.update(values)
    return row


def test_migrations_build_exactly_the_models_schema(engine):
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert {"users", "prediction_logs", "alembic_version"} <= set(inspect(engine).get_table_names())
    migrate(engine)  # idempotent


def test_admin_filters_sorting_and_pagination(engine):
    rows = [
        log_row(text="42", confidence=0.95, username="ada", created_at=datetime(2026, 11, 20, 9)),
        log_row(text="7.5", confidence=0.40, username="bob", created_at=datetime(2026, 11, 21, 9)),
        log_row(text="100", confidence=0.70, username="ada", model_version="digitify-crnn/v2"),
        log_row(outcome="rejected", error="no number found", text=None, confidence=None, char_confidences=None),
    ]
    with engine.begin() as connection:
        connection.execute(PredictionLog.__table__.insert(), rows)
    with session_factory(engine)() as session:

        def texts(**filters):
            return sorted(str(r.text) for r in query_logs(session, LogFilter(**filters))[1])

        assert texts(username="ada") == ["100", "42", "None"]
        assert texts(text="7.5") == ["7.5"]
        assert texts(contains="0") == ["100"]
        assert texts(contains=".") == ["7.5"]
        assert texts(min_confidence=0.5, max_confidence=0.8) == ["100"]
        assert texts(since=datetime(2026, 11, 21), until=datetime(2026, 11, 22)) == ["7.5"]
        assert texts(model_version="digitify-crnn/v2") == ["100"]
        assert texts(outcome="rejected") == ["None"]
        total, page = query_logs(session, LogFilter(), sort="confidence", descending=True, page=1, page_size=2)
        assert total == 4 and [r.text for r in page] == ["42", "100"]
        total, page = query_logs(session, LogFilter(), sort="confidence", descending=True, page=2, page_size=2)
        assert [r.text for r in page] == ["7.5", None]
        with pytest.raises(ValueError, match="cannot sort"):
            query_logs(session, LogFilter(), sort="confidence; DROP TABLE users")


def test_filters_are_values_not_sql(engine):
    with engine.begin() as connection:
        connection.execute(PredictionLog.__table__.insert(), [log_row(), log_row(text="5%", username="x' OR '1'='1")])
    with session_factory(engine)() as session:
        assert query_logs(session, LogFilter(username="' OR 1=1 --"))[0] == 0
        assert query_logs(session, LogFilter(text="42' OR '1'='1"))[0] == 0
        assert query_logs(session, LogFilter(username="x' OR '1'='1"))[0] == 1
        assert query_logs(session, LogFilter(contains="%"))[0] == 1  # LIKE wildcards are escaped
    assert "users" in inspect(engine).get_table_names()


def test_value_range_filter_compares_numbers_not_strings(engine):
    values = ["-12.5", "0.0015", "1250", "6.02e23", "99", None]
    rows = [log_row(text=value, value=value) for value in values]
    with engine.begin() as connection:
        connection.execute(PredictionLog.__table__.insert(), rows)
    with session_factory(engine)() as session:

        def found(low=None, high=None):
            bounds = LogFilter(min_value=None if low is None else Decimal(low), max_value=high and Decimal(high))
            return sorted(str(r.value) for r in query_logs(session, bounds)[1])

        assert found("0", "2000") == ["0.0015", "1250", "99"]  # "1250" < "99" as strings, not as numbers
        assert found("1e20") == ["6.02e23"]
        assert found(high="-1") == ["-12.5"]
        assert found("0.0015", "0.0015") == ["0.0015"]
        assert found("1e400") == []  # beyond a double: matches nothing, fails nothing
        assert len(found()) == len(values)  # no bound: rows without a value too


def test_a_log_row_holds_the_value_its_request_read(engine):
    """The row's value follows the request's separator rule; a refusal has none."""
    context = LogContext("r", "ada", "predict", 0.0)
    assert build_log_row(context, "v1", text="12,50")["value"] == "12.5"  # auto: a decimal comma
    assert build_log_row(context, "v1", text="1,250")["value"] == "1250"  # auto: grouped thousands
    comma = LogContext("r", "ada", "predict", 0.0, separator_rule="comma")
    assert build_log_row(comma, "v1", text="1.250,5")["value"] == "1250.5"
    assert build_log_row(comma, "v1", text="1..2")["value"] is None
    assert build_log_row(context, "v1", error="no number found")["value"] is None
    spooled_before = to_spool_row(build_log_row(context, "v1", text="42"))
    del spooled_before["value"]  # what a spool written before the upgrade holds
    assert from_spool_row(spooled_before)["value"] is None
    with engine.begin() as connection:  # it goes into the log beside rows with values
        rows = [from_spool_row(spooled_before), from_spool_row(to_spool_row(build_log_row(comma, "v1", text="7")))]
        connection.execute(PredictionLog.__table__.insert(), [{**row, "id": str(uuid.uuid4())} for row in rows])
        stored = dict(connection.execute(select(PredictionLog.text, PredictionLog.value)).all())
    assert stored == {"42": None, "7": "7"}  # one batch, each row's own value (none dropped for the other)


def test_migration_fills_the_values_of_rows_logged_before_it(database_url):
    """Upgrading a log at revision 0003 gives its old readings their values."""
    engine = make_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    old = [log_row(text=text) for text in ("0042", "3.50", ".5")]
    old.append(log_row(outcome="rejected", error="blank", text=None, confidence=None))
    for row in old:
        del row["value"]
    with engine.begin() as connection:  # the columns the rows name: those of revision 0003
        connection.execute(PredictionLog.__table__.insert(), old)
    migrate(engine)
    with session_factory(engine)() as session:
        values = {r.text: r.value for r in session.scalars(select(PredictionLog))}
    assert values == {"0042": "42", "3.50": "3.5", ".5": "0.5", None: None}
    engine.dispose()


def test_stats(engine):
    day = datetime(2026, 11, 20, 10)
    rows = [log_row(confidence=c / 10 + 0.05, latency_ms=float(c + 1), created_at=day) for c in range(10)]
    rows += [log_row(created_at=day + timedelta(days=1), username="bob", latency_ms=100.0)]
    rows += [log_row(outcome="rejected", text=None, confidence=None, latency_ms=1.0, created_at=day)]
    rows += [
        log_row(outcome="rejected", text=None, confidence=None, latency_ms=1.0, created_at=day + timedelta(days=2))
    ]
    with engine.begin() as connection:
        connection.execute(PredictionLog.__table__.insert(), rows)
    with session_factory(engine)() as session:
        summary = stats(session, LogFilter(), low_confidence=0.5)
        stricter = stats(session, LogFilter(), low_confidence=0.3)
    assert summary["total"] == 13
    assert summary["per_day"] == [
        {"day": "2026-11-20", "count": 11, "mean_confidence": pytest.approx(0.5), "low_confidence_rate": 0.5},
        {"day": "2026-11-21", "count": 1, "mean_confidence": pytest.approx(0.9), "low_confidence_rate": 0.0},
        {"day": "2026-11-22", "count": 1, "mean_confidence": None, "low_confidence_rate": None},
    ]
    assert [day["low_confidence_rate"] for day in stricter["per_day"]] == [0.3, 0.0, None]
    assert stricter["low_confidence_rate"] == pytest.approx(3 / 11)
    assert [b["count"] for b in summary["confidence_histogram"]] == [1, 1, 1, 1, 1, 1, 1, 1, 1, 2]
    assert summary["low_confidence_rate"] == pytest.approx(5 / 11)
    assert summary["latency_ms"] == {"p50": 5.0, "p95": 100.0, "p99": 100.0}
    assert {"key": "bob", "count": 1} in summary["per_user"]
    assert {"key": "rejected", "count": 2} in summary["by_outcome"]


def test_logbook_keeps_rows_while_the_database_is_down_and_delivers_them_once(database_url, tmp_path):
    from tests.service.harness import free_port

    spool = Spool(tmp_path / "spool.db")
    down = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none", connect_timeout=1)
    rows = [log_row() for _ in range(5)]
    Logbook(spool, down, lambda: migrate(down)).record(rows)
    with pytest.raises(Exception, match="connect"):
        Logbook(spool, down, lambda: migrate(down)).flush()
    assert spool.count() == 5

    up = make_engine(database_url)
    logbook = Logbook(spool, up, lambda: migrate(up))
    spool.append([{**rows[0], "created_at": rows[0]["created_at"].isoformat()}])  # a duplicate (e.g. two flushers)
    assert logbook.flush() == 6
    assert spool.count() == 0
    with up.connect() as connection:
        stored = set(connection.scalars(select(PredictionLog.id)))
    assert stored == {row["id"] for row in rows}
    up.dispose()


def test_two_flushers_on_one_spool_lose_nothing(database_url, tmp_path):
    """Several workers share the spool file: concurrent appends and flushes deliver every row once."""
    import threading

    engine = make_engine(database_url)
    migrate(engine)
    spool_path = tmp_path / "shared-spool.db"
    flushers = [Logbook(Spool(spool_path), engine, lambda: None) for _ in range(2)]
    writer = Logbook(Spool(spool_path), engine, lambda: None)
    expected = []
    done = threading.Event()

    def flush_until_done(logbook):
        while not done.is_set():
            logbook.flush()
        logbook.flush()

    threads = [threading.Thread(target=flush_until_done, args=(f,)) for f in flushers]
    for thread in threads:
        thread.start()
    for _ in range(150):
        rows = [log_row() for _ in range(2)]
        expected += [row["id"] for row in rows]
        writer.record(rows)
    done.set()
    for thread in threads:
        thread.join()
    flushers[0].flush()
    with engine.connect() as connection:
        stored = list(connection.scalars(select(PredictionLog.id)))
    assert sorted(stored) == sorted(expected)
    engine.dispose()


def test_requests_asking_for_a_flush_together_share_one(tmp_path, monkeypatch):
    """Each correction of an unknown log id asks for a flush: concurrent ones must not each flush the same rows."""
    import threading

    import service.predlog.logbook as logbook_module

    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    migrate(engine)
    logbook = Logbook(Spool(tmp_path / "spool.db"), engine, lambda: None)
    logbook.record([log_row() for _ in range(3000)])
    inserted = []
    insert = logbook_module.insert_ignoring_duplicates

    def counting_insert(target, rows):
        inserted.append(len(rows))
        insert(target, rows)

    monkeypatch.setattr(logbook_module, "insert_ignoring_duplicates", counting_insert)
    start = threading.Barrier(8)

    def ask():
        start.wait()
        logbook.flush_for_request()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(inserted) == 3000  # every row inserted once, not once per request
    assert logbook.spool.count() == 0
    with engine.connect() as connection:
        assert len(list(connection.scalars(select(PredictionLog.id)))) == 3000
    engine.dispose()


def test_concurrent_records_share_spool_commits_and_each_learns_its_outcome(tmp_path):
    """Group commit: callers that wait behind a commit are written together; a failed commit fails each of them.

    (The spool writer thread, reached through ``record_async``, is the one group commit.)
    """
    import asyncio
    import time
    from concurrent.futures import ThreadPoolExecutor

    class SlowDisk(Spool):
        """A real spool whose commits take 50 ms (a slow disk), and fail while ``broken`` is set."""

        broken = False

        def append(self, rows):
            time.sleep(0.05)
            if self.broken:
                raise OSError("disk full")
            super().append(rows)

    spool = SlowDisk(tmp_path / "spool.db")
    logbook = Logbook(spool, engine=None, ensure_schema=lambda: None)
    logbook.start_writer()
    rows = [log_row() for _ in range(16)]

    async def record_each(batches):
        async def record_one(batch):
            try:
                await logbook.record_async(batch)
            except OSError as error:
                return str(error)
            return "ok"

        return await asyncio.gather(*(record_one(batch) for batch in batches))

    def run(batches):
        """Run the callers on an event loop of their own (the browser tests may hold this thread's loop)."""
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, record_each(batches)).result()

    try:
        assert run([[row] for row in rows]) == ["ok"] * len(rows)
        assert sorted(row["id"] for _, row in spool.peek(100)) == sorted(row["id"] for row in rows)
        assert logbook.commits < len(rows)

        spool.broken = True
        outcomes = run([[log_row()] for _ in range(8)])
        assert outcomes == ["disk full"] * 8
        assert spool.count() == len(rows)
    finally:
        logbook.stop()


def test_alembic_command_line_upgrades_and_downgrades(database_url, tmp_path):
    """``alembic upgrade head`` / ``downgrade base`` from the repo's alembic.ini, on DATABASE_URL."""
    import subprocess
    import sys

    from tests.service.harness import REPO

    def alembic(*args):
        env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
        command = [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), *args]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    assert alembic("upgrade", "head").returncode == 0
    engine = make_engine(database_url)
    assert {"users", "prediction_logs"} <= set(inspect(engine).get_table_names())
    assert alembic("downgrade", "base").returncode == 0
    assert not {"users", "prediction_logs"} & set(inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_commits_are_synced_before_they_are_acknowledged(tmp_path):
    """The spool and a SQLite log run WAL with ``synchronous=FULL`` (2): durable on power loss."""
    from sqlalchemy import text

    engines = [
        Spool(tmp_path / "spool.db").engine,
        make_engine(f"sqlite:///{tmp_path / 'log.db'}"),
    ]
    for engine in engines:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        engine.dispose()
