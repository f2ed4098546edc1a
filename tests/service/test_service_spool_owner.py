"""A spool belongs to one database: two services in one directory keep every row in its own database."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import select

from service.core.config import default_database_url, default_spool_path, load_settings
from service.db.engine import database_identity, make_engine
from service.db.tables import PredictionLog
from service.predlog.spool import Spool, SpoolOwnerError
from tests.service.harness import ServiceProcess, register, service_env


def test_a_spool_refuses_a_second_database(tmp_path):
    first = f"sqlite:///{tmp_path / 'a.db'}"
    second = "postgresql+psycopg://digitify:secret@db.example:5432/digitify"
    Spool(tmp_path / "spool.db", owner=database_identity(first)).close()
    Spool(tmp_path / "spool.db", owner=database_identity(first)).close()
    with pytest.raises(SpoolOwnerError, match="give this service a spool of its own") as refused:
        Spool(tmp_path / "spool.db", owner=database_identity(second))
    assert "secret" not in str(refused.value)


def test_a_moved_directory_keeps_its_spool(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    before.mkdir()
    owner = database_identity(f"sqlite:///{before / 'predictions.db'}", before)
    Spool(before / "predictions-spool.db", owner=owner).close()
    before.rename(after)
    moved = database_identity(f"sqlite:///{after / 'predictions.db'}", after)
    Spool(after / "predictions-spool.db", owner=moved).close()
    assert moved == owner and database_identity(f"sqlite:///{after / 'x.db'}", tmp_path) != owner


def test_each_database_gets_its_own_default_spool(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    urls = [default_database_url(tmp_path), "postgresql://u@h/one", "postgresql://u@h/two", "sqlite:///other.db"]
    paths = {default_spool_path(url, tmp_path) for url in urls}
    assert len(paths) == 4 and tmp_path / "predictions-spool.db" in paths
    environ = {
        "DATABASE_URL": "postgresql://u@h/one",
        "DIGITIFY_JWT_SECRET": "s" * 40,
        "DIGITIFY_ADMIN_PASSWORD": "p" * 12,
    }
    assert load_settings(environ).spool_path == default_spool_path("postgresql://u@h/one", tmp_path)


def test_two_services_in_one_directory_keep_their_rows_apart_through_a_postgresql_restart(
    postgres, model_env, tmp_path, number_png
):
    """One service on SQLite, one on PostgreSQL, one working directory, default spools; PostgreSQL restarts."""
    databases = {"sqlite": f"sqlite:///{tmp_path / 'sqlite-log.db'}", "postgresql": postgres.create_database("two_svc")}
    processes = {}
    for name, url in databases.items():
        env = service_env(url, tmp_path, model_env)
        env.pop("DIGITIFY_SPOOL_PATH")
        processes[name] = ServiceProcess(env, cwd=tmp_path).start()
    try:
        tokens = {name: register(process.url, f"load-{name}", "password-load") for name, process in processes.items()}
        sent: dict[str, list[str]] = {name: [] for name in processes}
        stop = threading.Event()

        def load(name: str) -> None:
            headers = {"authorization": f"Bearer {tokens[name]}"}
            with httpx.Client(base_url=processes[name].url, headers=headers, timeout=60) as client:
                while not stop.is_set():
                    response = client.post("/predict", files={"image": ("n.png", number_png)})
                    assert response.status_code == 200, response.text
                    sent[name].append(response.json()["log_id"])

        workers = [threading.Thread(target=load, args=(name,)) for name in processes for _ in range(2)]
        for worker in workers:
            worker.start()
        time.sleep(2)
        postgres.stop()
        time.sleep(4)
        postgres.start()
        time.sleep(2)
        stop.set()
        for worker in workers:
            worker.join()
        assert all(len(ids) > 10 for ids in sent.values()), {name: len(ids) for name, ids in sent.items()}
        stored = {name: set() for name in processes}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, url in databases.items():
                engine = make_engine(url)
                with engine.connect() as connection:
                    stored[name] = set(connection.scalars(select(PredictionLog.id)))
                engine.dispose()
            if all(set(sent[name]) <= stored[name] for name in processes):
                break
            time.sleep(0.5)
        for name in processes:
            assert set(sent[name]) <= stored[name], f"{name}: {len(set(sent[name]) - stored[name])} rows lost"
        assert not stored["sqlite"] & set(sent["postgresql"]), "PostgreSQL rows landed in SQLite"
        assert not stored["postgresql"] & set(sent["sqlite"]), "SQLite rows landed in PostgreSQL"
        spools = [path for path in tmp_path.glob("predictions-spool*.db") if not path.stem.endswith("-tasks")]
        assert len(spools) == 2
    finally:
        for process in processes.values():
            process.stop()
