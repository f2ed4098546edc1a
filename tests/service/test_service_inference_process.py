"""The inference process: uploads in, readings out, the same as the model in-process; it can be started again.

The tests drive one process through its own protocol (``send`` a batch, ``receive`` the
readings); sharing processes between requests is ``InferencePool``'s, tested on its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from models.recognizer import Recognizer, random_model_file
from service.prediction.process import (
    InferenceConfig,
    InferenceProcess,
    InferenceProcessDiedError,
    InferenceProcessError,
    Reading,
    Upload,
)
from service.predlog.rows import LogContext
from service.predlog.spool import Spool
from tests.configs import small_config
from tests.drawing import draw_number
from tests.service.harness import png_bytes


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained model of the tests' small configuration."""
    return random_model_file(tmp_path_factory.mktemp("inference") / "model.pt", small_config())


def config(model_file: Path, image_store: str | None = None, spool_path: Path | None = None) -> InferenceConfig:
    """What a test's child needs: the model, one thread, a 64 KB upload limit."""
    return InferenceConfig(
        model_file,
        "v-test",
        torch_threads=1,
        max_upload_bytes=64 * 1024,
        image_store=image_store,
        spool_path=spool_path,
    )


def read(process: InferenceProcess, uploads: list[Upload]) -> list[Reading]:
    """Send one batch and wait for its readings."""
    process.send(uploads)
    return process.receive()


def test_readings_match_the_model_in_process_and_bad_uploads_say_why(model_file, tmp_path):
    images = [png_bytes(draw_number(text)) for text in ("7", "3.14", "2026")]
    blank = png_bytes(draw_number(""))
    process = InferenceProcess(config(model_file, image_store=str(tmp_path / "images")))
    try:
        uploads = [images[0], images[1], images[2], b"not an image", blank, b"x" * 70_000]
        readings = read(process, [Upload(upload) for upload in uploads])
    finally:
        process.close()
    expected = Recognizer.from_file(model_file).predict([images[0], images[1], images[2]])
    for reading, alone in zip(readings[:3], expected, strict=True):
        assert reading.error is None and reading.status == 200
        assert reading.text == alone.text
        assert reading.confidence == pytest.approx(alone.confidence, abs=1e-6)
        assert list(reading.char_confidences) == pytest.approx(alone.char_confidences, abs=1e-6)
        assert reading.width > 0 and reading.height > 0 and len(reading.sha256) == 64
    not_image, empty, too_large = readings[3:]
    assert (not_image.status, empty.status, too_large.status) == (400, 422, 413)
    assert "not a readable image" in not_image.error and "no number found" in empty.error
    assert too_large.input_error is not None and too_large.input_error.status == 413
    kept = sorted(path.name for path in (tmp_path / "images").rglob("*") if path.is_file())
    assert kept == sorted({reading.sha256 for reading in readings[:3]})  # readable uploads only


def test_a_child_that_dies_fails_its_batch_and_can_be_started_again(model_file):
    image = png_bytes(draw_number("42"))
    process = InferenceProcess(config(model_file))
    try:
        [before] = read(process, [Upload(image)])
        dead = process._process
        dead.kill()
        dead.join(10)
        with pytest.raises(InferenceProcessDiedError, match="died"):
            read(process, [Upload(image)])
        process.restart()
        [after] = read(process, [Upload(image)])
        assert process._process is not dead and process._process.is_alive()
    finally:
        process.close()
    assert (after.text, after.confidence) == (before.text, before.confidence)
    with pytest.raises(InferenceProcessError, match="closed"):
        read(process, [Upload(image)])


def test_a_child_that_cannot_load_its_model_says_so(tmp_path):
    with pytest.raises(InferenceProcessError, match="could not start"):
        InferenceProcess(config(tmp_path / "missing.pt"))


def test_the_log_rows_of_a_batch_are_in_the_spool_before_its_readings_come_back(model_file, tmp_path):
    spool_path = tmp_path / "spool.db"
    Spool(spool_path).close()  # the worker creates the spool before it starts its inference processes
    image = png_bytes(draw_number("905"))
    started = time.perf_counter()
    logged = [
        Upload(image, LogContext("row-ok", "ann", "predict_batch", started, batch_id="b1")),
        Upload(b"not an image", LogContext("row-bad", "ann", "predict_batch", started, batch_id="b1")),
    ]
    process = InferenceProcess(config(model_file, spool_path=spool_path))
    try:
        readings = read(process, [*logged, Upload(image)])  # the last one is not logged
        spool = Spool(spool_path)
        rows = {row["id"]: row for _, row in spool.peek(10)}
        spool.close()
    finally:
        process.close()
    assert set(rows) == {"row-ok", "row-bad"}
    ok, bad = rows["row-ok"], rows["row-bad"]
    assert (ok["outcome"], ok["text"], ok["username"]) == ("ok", readings[0].text, "ann")
    assert ok["endpoint"] == "predict_batch"
    assert ok["confidence"] == pytest.approx(readings[0].confidence) and ok["batch_id"] == "b1"
    assert ok["image_sha256"] == readings[0].sha256 and ok["latency_ms"] > 0
    assert (bad["outcome"], bad["error"], bad["text"]) == ("rejected", readings[1].error, None)


def test_a_child_without_a_spool_refuses_uploads_it_cannot_log(model_file):
    process = InferenceProcess(config(model_file))
    try:
        with pytest.raises(InferenceProcessError, match="no spool"):
            logged = Upload(png_bytes(draw_number("1")), LogContext("row", None, "predict", time.perf_counter()))
            read(process, [logged])
    finally:
        process.close()
