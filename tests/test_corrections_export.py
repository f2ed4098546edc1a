"""The corrections export: accepted corrections in the service's real database (SQLite and PostgreSQL,
migrated by the service's own code, images in its own image store) become labelled folders."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import fsspec
import pytest
import yaml

from models.preprocess import normalize
from pipelines import corrections
from pipelines.common.labelled_folder import LABELS_FILE, SKIPPED_FILE, read_folder
from tests.corrections_fixture import REVIEWED, CorrectionsDatabase, decoded_rgb, encoded
from tests.service.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database; PostgreSQL's URL in the plain ``postgresql://`` form DATABASE_URL takes."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'predictions.db'}"
    url = request.getfixturevalue("postgres").create_database(f"corrections_{uuid.uuid4().hex[:12]}")
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[CorrectionsDatabase]:
    database = CorrectionsDatabase(database_url, str(tmp_path / "prediction-images"))
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[CorrectionsDatabase]:
    database = CorrectionsDatabase(f"sqlite:///{tmp_path / 'predictions.db'}", str(tmp_path / "prediction-images"))
    yield database
    database.close()


def params_file(folder: Path, test_percent: int = 50) -> Path:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["corrections"]["test_percent"] = test_percent
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def export(url: str, out: Path, capsys: pytest.CaptureFixture, test_percent: int = 50) -> dict:
    corrections.main(["--params", str(params_file(out.parent, test_percent)), "--database-url", url, "--out", str(out)])
    return json.loads(capsys.readouterr().out)


def labels(out: Path) -> dict[str, dict[str, str]]:
    """``{split: {filename: label}}``, reading (and so validating) each split that has a labels.csv."""
    return {
        split: {s.path.name: s.label for s in read_folder(out / split)} if (out / split / LABELS_FILE).is_file() else {}
        for split in SPLITS
    }


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_accepted_corrections_become_a_labelled_folder_per_split(db, database_url, tmp_path, capsys):
    accepted = {
        "12": encoded("12"),
        "3.5": encoded("3.5", "JPEG", quality=90),
        "407": encoded("407", "BMP"),
        "8": encoded("8", "GIF"),
        "90.25": encoded("90.25", "WEBP", lossless=True),
        "6": encoded("6"),
    }
    for text, image in accepted.items():
        db.add(text, image)
    db.add("55", encoded("55"), status="pending")
    db.add("77", encoded("77"), status="rejected")

    summary = export(database_url, tmp_path / "corrections", capsys)

    assert summary["accepted"] == 6 and summary["train"] + summary["test"] == 6
    assert summary["skipped"] == 0 and summary["superseded"] == 0
    assert "postgresql+psycopg://" in summary["database"] or summary["database"].startswith("sqlite:///")
    rows = labels(tmp_path / "corrections")
    exported = {**rows["train"], **rows["test"]}
    suffixes = {"12": ".png", "3.5": ".jpg", "407": ".png", "8": ".png", "90.25": ".png", "6": ".png"}
    assert exported == {f"{sha(image)}{suffixes[text]}": text for text, image in accepted.items()}
    for split in SPLITS:
        assert list(rows[split]) == sorted(rows[split]), "rows sorted by image hash"
        for filename in rows[split]:
            assert corrections.split_of(filename[:64], 50) == split
    for text, image in accepted.items():
        filename = f"{sha(image)}{suffixes[text]}"
        path = next(tmp_path / "corrections" / s / filename for s in SPLITS if filename in rows[s])
        assert normalize(path).shape[0] > 0
        if text in ("12", "3.5", "6"):
            assert path.read_bytes() == image, "PNG and JPEG are copied as uploaded"
        else:
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert decoded_rgb(path.read_bytes()).tobytes() == decoded_rgb(image).tobytes()


def test_a_second_export_is_byte_identical_and_removes_stale_files(sqlite_db, tmp_path, capsys):
    for text in ("1", "23", "4.56", "789", "10", "11"):
        sqlite_db.add(text, encoded(text))
    out = tmp_path / "corrections"
    url = str(sqlite_db.engine.url)
    export(url, out, capsys)
    first = snapshot(out)
    assert {name.split("/")[0] for name in first} == set(SPLITS)
    (out / "train" / "stale.png").write_bytes(encoded("9"))
    (out / "test" / "notes.txt").write_text("left from an older export")

    export(url, out, capsys)

    assert snapshot(out) == first


def test_the_split_follows_the_image_hash_so_images_never_change_sides(sqlite_db, tmp_path, capsys):
    url, out = str(sqlite_db.engine.url), tmp_path / "corrections"
    for number in range(8):
        sqlite_db.add(str(number), encoded(str(number)))
    export(url, out, capsys, test_percent=30)
    before = {name: split for split, rows in labels(out).items() for name in rows}
    for number in range(100, 112):
        sqlite_db.add(str(number), encoded(str(number)))

    summary = export(url, out, capsys, test_percent=30)

    after = {name: split for split, rows in labels(out).items() for name in rows}
    assert summary["train"] + summary["test"] == len(after) == 20
    assert {name: after[name] for name in before} == before
    assert summary["train"] > 0 and summary["test"] > 0
    everything_train = export(url, out, capsys, test_percent=0)
    assert everything_train["test"] == 0 and everything_train["train"] == 20
    assert (out / "test" / SKIPPED_FILE).is_file() and not (out / "test" / LABELS_FILE).exists()


def test_one_row_per_image_the_latest_review_wins(db, database_url, tmp_path, capsys):
    image = encoded("21")
    db.add("12", image, reviewed_at=REVIEWED)
    db.add("21", image, reviewed_at=REVIEWED + timedelta(hours=1))
    db.add("2", image, reviewed_at=REVIEWED + timedelta(hours=2), status="rejected")
    tied = encoded("5")
    db.add("6", tied, log_id="ffffffff-0000-0000-0000-000000000000")
    db.add("5", tied, log_id="00000000-0000-0000-0000-000000000000")

    summary = export(database_url, tmp_path / "corrections", capsys)

    rows = labels(tmp_path / "corrections")
    assert {**rows["train"], **rows["test"]} == {f"{sha(image)}.png": "21", f"{sha(tied)}.png": "6"}
    assert summary["accepted"] == 4 and summary["superseded"] == 2 and summary["skipped"] == 0


def test_corrections_without_a_readable_image_are_skipped_with_a_warning(sqlite_db, tmp_path, capsys, caplog):
    sqlite_db.add("1", encoded("1"), keep_image=False)
    missing_id, missing_uri = sqlite_db.add("2", encoded("2"))
    Path(missing_uri).unlink()
    damaged_id, damaged_uri = sqlite_db.add("3", encoded("3"))
    Path(damaged_uri).write_bytes(encoded("8"))
    not_an_image = b"these bytes are no picture"
    garbage_id, garbage_uri = sqlite_db.add("4", not_an_image)
    remote = encoded("5")
    remote_uri = f"memory://digitify-test-{uuid.uuid4().hex}/{sha(remote)}"
    with fsspec.open(remote_uri, "wb") as handle:
        handle.write(remote)
    sqlite_db.add("5", remote, image_uri=remote_uri, keep_image=False)
    sqlite_db.add("6", encoded("6"))

    with caplog.at_level(logging.WARNING, logger="pipelines.corrections"):
        summary = export(str(sqlite_db.engine.url), tmp_path / "corrections", capsys)

    rows = labels(tmp_path / "corrections")
    assert sorted({**rows["train"], **rows["test"]}.values()) == ["5", "6"]
    assert summary["skipped"] == 4
    assert summary["skipped_by_reason"] == {"image unreadable": 3, "no image kept": 1}
    warnings = caplog.text
    for log_id, uri in ((missing_id, missing_uri), (damaged_id, damaged_uri), (garbage_id, garbage_uri)):
        assert f"log_id {log_id}: image {uri} skipped" in warnings
    assert "do not match the image's SHA-256" in warnings and "not a readable image" in warnings
    assert "4 accepted corrections skipped" in warnings


def test_no_accepted_correction_leaves_both_splits_skipped(sqlite_db, tmp_path, capsys):
    url, out = str(sqlite_db.engine.url), tmp_path / "corrections"
    log_id, _ = sqlite_db.add("7", encoded("7"))
    export(url, out, capsys, test_percent=0)
    assert (out / "train" / LABELS_FILE).is_file()
    with sqlite_db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE corrections SET status = 'rejected' WHERE log_id = ?", (log_id,))

    summary = export(url, out, capsys)

    assert summary == {**summary, "accepted": 0, "train": 0, "test": 0, "skipped": 0}
    assert sorted(snapshot(out)) == [f"test/{SKIPPED_FILE}", f"train/{SKIPPED_FILE}"]


def run_cli(cwd: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "pipelines.corrections", "--params", str(ROOT / "params.yaml"), *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_reads_the_embedded_default_database_in_the_working_directory(tmp_path):
    database = CorrectionsDatabase(f"sqlite:///{tmp_path / 'predictions.db'}", str(tmp_path / "prediction-images"))
    database.add("31", encoded("31"))
    database.close()

    result = run_cli(tmp_path, "--out", "data/corrections")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["database"] == f"sqlite:///{tmp_path / 'predictions.db'}"
    assert summary["train"] + summary["test"] == 1
    rows = labels(tmp_path / "data/corrections")
    assert list({**rows["train"], **rows["test"]}.values()) == ["31"]


def test_clear_errors_for_a_database_that_cannot_be_read(tmp_path):
    nothing_here = run_cli(tmp_path, "--out", "out")
    assert nothing_here.returncode != 0
    assert f"error: no database file at sqlite:///{tmp_path / 'predictions.db'}: has the service run there?" in (
        nothing_here.stderr
    )
    assert not (tmp_path / "predictions.db").exists(), "the export must not create an empty database"

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    no_tables = run_cli(tmp_path, "--out", "out", database_url=f"sqlite:///{empty}")
    assert no_tables.returncode != 0
    assert f"error: no corrections table in sqlite:///{empty}: has the service run there?" in no_tables.stderr

    port = free_port()
    unreachable = run_cli(tmp_path, "--database-url", f"postgres://digitify:s3cret@127.0.0.1:{port}/digitify")
    assert unreachable.returncode != 0
    assert f"error: cannot read the database postgresql+psycopg://digitify:***@127.0.0.1:{port}/digitify" in (
        unreachable.stderr
    )
    assert "s3cret" not in unreachable.stderr + unreachable.stdout
    assert not (tmp_path / "out").exists(), "nothing is written when the database cannot be read"


def test_a_postgresql_database_without_the_service_schema_is_named(postgres, tmp_path):
    url = postgres.create_database(f"bare_{uuid.uuid4().hex[:12]}")
    with pytest.raises(SystemExit, match=r"no corrections table in postgresql\+psycopg://postgres@.*has the service"):
        corrections.main(["--params", str(ROOT / "params.yaml"), "--database-url", url, "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
