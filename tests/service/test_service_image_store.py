"""The image store (a local folder and an fsspec URL) and image retention on a real SQLite log database."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import timedelta

import fsspec
import pytest
from sqlalchemy import select

from service.corrections.image_store import ImageStore
from service.corrections.retention import RetentionSweeper, purge
from service.db.engine import make_engine, migrate, session_factory
from service.db.tables import Correction, PredictionLog, utcnow


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_images_are_stored_once_by_hash_and_read_back_through_their_uri(tmp_path, kind):
    url = str(tmp_path / "images") if kind == "local" else f"memory://digitify-{uuid.uuid4().hex}"
    store = ImageStore(url)
    data = b"\x89PNG\r\n\x1a\n not really a png"
    digest = sha(data)
    assert not store.exists(digest)
    assert store.get(digest) is None
    store.put(digest, data)
    store.put(digest, data)
    assert store.exists(digest)
    assert store.get(digest) == data
    assert store.hashes() == [digest]
    with fsspec.open(store.uri(digest), "rb") as handle:
        assert handle.read() == data
    if kind == "local":
        assert [p.name for p in (tmp_path / "images").rglob("*") if p.is_file()] == [digest]
    assert store.delete([digest, digest]) == 1
    assert not store.exists(digest)
    assert store.hashes() == []


def test_a_name_that_is_not_a_hash_is_refused(tmp_path):
    store = ImageStore(str(tmp_path))
    for name in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(ValueError):
            store.path(name)


def test_a_failing_store_does_not_fail_the_caller(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the store's folder should be")
    assert ImageStore(str(blocker)).keep(sha(b"x"), b"x") is False


@pytest.fixture()
def log_db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def add_prediction(sessions, data: bytes, days_ago: float, correction: str | None = None) -> str:
    log_id = str(uuid.uuid4())
    with sessions() as session:
        session.add(
            PredictionLog(
                id=log_id,
                created_at=utcnow() - timedelta(days=days_ago),
                username="u",
                endpoint="predict",
                model_version="m/1",
                outcome="ok",
                text="1",
                confidence=0.9,
                latency_ms=1.0,
                image_sha256=sha(data),
            )
        )
        session.flush()
        if correction is not None:
            session.add(Correction(log_id=log_id, text="2", corrected_by="u", created_at=utcnow(), status=correction))
        session.commit()
    return log_id


def test_retention_forgets_old_images_unless_a_live_correction_or_a_recent_prediction_needs_them(tmp_path, log_db):
    store = ImageStore(str(tmp_path / "images"))
    names = ("old", "recent", "old-then-recent", "pending", "accepted", "rejected", "row-still-spooled")
    images = {name: name.encode() for name in names}
    for data in images.values():
        store.put(sha(data), data)
    add_prediction(log_db, images["old"], 40)
    add_prediction(log_db, images["recent"], 5)
    add_prediction(log_db, images["old-then-recent"], 40)
    add_prediction(log_db, images["old-then-recent"], 1)
    add_prediction(log_db, images["pending"], 40, correction="pending")
    add_prediction(log_db, images["accepted"], 40, correction="accepted")
    add_prediction(log_db, images["rejected"], 40, correction="rejected")

    assert purge(store, log_db, days=30) == 2

    kept = {name for name, data in images.items() if store.exists(sha(data))}
    assert kept == {"recent", "old-then-recent", "pending", "accepted", "row-still-spooled"}


def test_the_sweeper_purges_at_start_and_zero_days_keeps_everything(tmp_path, log_db):
    store = ImageStore(str(tmp_path / "images"))
    store.put(sha(b"old"), b"old")
    add_prediction(log_db, b"old", 400)
    forever = RetentionSweeper(store, log_db, 0, lambda: None)
    forever.start()
    forever.stop()
    assert store.exists(sha(b"old"))
    sweeper = RetentionSweeper(store, log_db, 30, lambda: None)
    assert sweeper.sweep() == 1
    assert not store.exists(sha(b"old"))
    assert RetentionSweeper(ImageStore(str(tmp_path / "never-used")), log_db, 30, lambda: None).sweep() == 0


def test_an_image_kept_again_during_a_sweep_is_not_deleted(tmp_path, log_db):
    store = ImageStore(str(tmp_path / "images"))
    again, untouched = b"uploaded again", b"not seen since"
    for data in (again, untouched):
        store.put(sha(data), data)
        add_prediction(log_db, data, 40)
    old = time.time() - 3600
    for data in (again, untouched):
        os.utime(store.path(sha(data)), (old, old))
    began = time.time()
    store.put(sha(again), again)  # a new prediction of it kept it again after the sweep began
    assert store.delete([sha(again), sha(untouched)], unless_kept_since=began - 1) == 1
    assert store.exists(sha(again)) and not store.exists(sha(untouched))


def test_no_sweep_while_log_rows_wait_in_the_spool(tmp_path, log_db):
    store = ImageStore(str(tmp_path / "images"))
    store.put(sha(b"old"), b"old")
    add_prediction(log_db, b"old", 400)
    waiting = [3]
    sweeper = RetentionSweeper(store, log_db, 30, lambda: None, spooled=lambda: waiting[0])
    assert sweeper.sweep() == 0 and store.exists(sha(b"old"))  # its fresh prediction may be in the spool
    waiting[0] = 0
    assert sweeper.sweep() == 1 and not store.exists(sha(b"old"))


def test_a_local_image_is_synced_before_it_appears(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda descriptor: synced.append(descriptor) or real_fsync(descriptor))
    store = ImageStore(str(tmp_path / "images"))
    store.put(sha(b"durable"), b"durable")
    assert len(synced) == 2  # the file, then its folder
    assert store.get(sha(b"durable")) == b"durable"
    assert [path.name for path in (tmp_path / "images").rglob("*") if path.is_file()] == [sha(b"durable")]


def test_the_log_is_pruned_after_its_retention_except_corrected_rows(tmp_path, log_db, monkeypatch):
    import service.predlog.retention as log_retention

    monkeypatch.setattr(log_retention, "DELETE_CHUNK", 2)  # several chunks
    old = [add_prediction(log_db, f"old-{i}".encode(), 400) for i in range(5)]
    corrected = add_prediction(log_db, b"old but corrected", 400, correction="rejected")
    recent = add_prediction(log_db, b"recent", 10)
    sweeper = RetentionSweeper(ImageStore(str(tmp_path / "images")), log_db, 30, lambda: None, log_days=365)
    sweeper.sweep()
    with log_db() as session:
        left = set(session.scalars(select(PredictionLog.id)))
    assert left == {corrected, recent} and not left & set(old)
    assert log_retention.prune_log(log_db, 0) == 0  # 0 days keeps the log for ever
