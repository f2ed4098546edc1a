"""A row the database refuses for good is quarantined, not retried forever; a full spool answers 503."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.db.engine import make_engine, migrate
from service.db.tables import PredictionLog
from service.predlog.logbook import Logbook
from service.predlog.rows import to_spool_row
from service.predlog.spool import Spool
from tests.service.harness import ServiceProcess, register, service_env


def log_row(**values) -> dict:
    row = {
        "id": str(uuid.uuid4()),
        "created_at": datetime(2026, 12, 1, 12, 0),
        "username": "poison-test",
        "endpoint": "predict",
        "batch_id": None,
        "model_version": "digitify-crnn/v1",
        "outcome": "ok",
        "error": None,
        "text": "42",
        "confidence": 0.9,
        "char_confidences": [0.9, 0.9],
        "latency_ms": 5.0,
        "image_width": 10,
        "image_height": 10,
        "image_bytes": 100,
        "image_sha256": "0" * 64,
    }
    row.update(values)
    return row


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.db'}"
    return request.getfixturevalue("postgres").create_database(f"p_{uuid.uuid4().hex[:12]}")


def test_poison_rows_are_quarantined_and_the_rest_delivered(database_url, tmp_path):
    engine = make_engine(database_url)
    logbook = Logbook(Spool(tmp_path / "spool.db"), engine, lambda: migrate(engine))
    good = [log_row() for _ in range(6)]
    poison = [log_row(endpoint=None), log_row(model_version=None)]
    if engine.dialect.name == "postgresql":
        poison.append(log_row(text="4\x002"))
    logbook.record(good[:3] + poison + good[3:])
    assert logbook.flush() == len(good) + len(poison)
    assert logbook.spool.count() == 0
    with engine.connect() as connection:
        stored = set(connection.scalars(select(PredictionLog.id)))
    assert stored == {row["id"] for row in good}
    quarantined = logbook.spool.quarantined(100)
    assert logbook.spool.quarantined_count() == len(poison)
    assert {item["row"]["id"] for item in quarantined} == {row["id"] for row in poison}
    assert all(item["error"] for item in quarantined)
    logbook.record([log_row()])
    assert logbook.flush() == 1 and logbook.status().quarantined_rows == len(poison)
    engine.dispose()


def wait_for_row(database_url: str, log_id: str, timeout: float = 30) -> None:
    """Wait until the log row ``log_id`` is in the database."""
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                if connection.scalar(select(PredictionLog.id).where(PredictionLog.id == log_id)):
                    return
            assert time.monotonic() < deadline, f"row {log_id} never arrived"
            time.sleep(0.2)
    finally:
        engine.dispose()


def _spool_of(server) -> Spool:
    return Spool(Path(server.process.env["DIGITIFY_SPOOL_PATH"]))


@pytest.mark.parametrize("server", ["postgresql"], indirect=True)
def test_a_poison_row_in_the_live_spool_does_not_stop_logging(server, number_png):
    username, token = server.new_user()
    poison = log_row(username=username, text="NUL\x00byte")
    spool = _spool_of(server)
    spool.append([to_spool_row(poison)])
    spool.close()
    with server.client(token) as client:
        log_ids = [client.post("/predict", files={"image": ("n.png", number_png)}).json()["log_id"] for _ in range(3)]
    rows = server.wait_for_logs(username, 3)["items"]
    assert {row["id"] for row in rows} == set(log_ids)
    with server.client(server.admin_token) as admin:
        deadline = time.monotonic() + 30
        while (listed := admin.get("/admin/quarantine").json())["total"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert poison["id"] in {item["row"]["id"] for item in listed["items"]}
        assert "NUL" in next(item["error"] for item in listed["items"] if item["row"]["id"] == poison["id"])
        assert admin.get("/admin/stats").json()["quarantined_rows"] >= 1
        metrics = admin.get("/metrics").text
        assert "digitify_log_quarantined_rows" in metrics
    assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200


def test_a_full_spool_refuses_predictions_until_the_database_is_back(postgres, model_env, tmp_path, number_png):
    env = {**service_env(postgres.create_database("small_spool"), tmp_path, model_env), "DIGITIFY_SPOOL_MAX_ROWS": "5"}
    process = ServiceProcess(env, cwd=tmp_path).start()
    try:
        token = register(process.url, "spool-filler", "password-filler")
        headers = {"authorization": f"Bearer {token}"}
        accepted, refused = [], None
        with httpx.Client(base_url=process.url, headers=headers, timeout=60) as client:
            warm = client.post("/predict", files={"image": ("n.png", number_png)})  # the account is now cached
            assert warm.status_code == 200, warm.text
            wait_for_row(env["DATABASE_URL"], warm.json()["log_id"])  # the spool is empty again
            postgres.stop()
            try:
                for _ in range(20):
                    answer = client.post("/predict", files={"image": ("n.png", number_png)})
                    if answer.status_code == 503:
                        refused = answer
                        break
                    assert answer.status_code == 200, answer.text
                    accepted.append(answer.json()["log_id"])
                assert refused is not None and len(accepted) == 5
                assert "prediction log is full" in refused.json()["error"], refused.text
                assert refused.headers["retry-after"]
                assert httpx.get(f"{process.url}/readyz", timeout=10).status_code == 503
            finally:
                postgres.start()
            deadline = time.monotonic() + 60
            while httpx.get(f"{process.url}/readyz", timeout=10).status_code != 200:
                assert time.monotonic() < deadline, "never ready again"
                time.sleep(0.5)
            assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200
        engine = make_engine(env["DATABASE_URL"])
        with engine.connect() as connection:
            stored = set(connection.scalars(select(PredictionLog.id).where(PredictionLog.username == "spool-filler")))
        engine.dispose()
        assert set(accepted) <= stored
    finally:
        process.stop()


def test_a_dead_or_idle_flusher_is_reported_stuck(tmp_path):
    """Strict: rows that cannot reach a database that is down make the flusher stuck once they waited too long."""
    from service.predlog import logbook as logbook_module
    from tests.service.harness import free_port

    down = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none", connect_timeout=1)
    logbook = Logbook(Spool(tmp_path / "spool.db"), down, lambda: migrate(down), max_rows=100)
    assert logbook.status().stuck, "a flusher that never started is stuck"
    logbook.start()
    try:
        assert not logbook.status().stuck  # alive, nothing waiting
        logbook.record([log_row() for _ in range(3)])
        assert not logbook.status().stuck  # rows wait, not for long yet
        logbook._progress_at -= logbook_module.STUCK_SECONDS + 1  # as if nothing had moved for that long
        assert logbook.status().stuck
        assert logbook.spool.count() == 3  # kept, not lost
    finally:
        logbook.stop()
    assert logbook.status().stuck  # stopped: dead
    down.dispose()
