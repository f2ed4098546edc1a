"""``python -m pipelines.evaluate --data DIR``: solid on any folder, clear errors on bad ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from models.recognizer import random_model_file
from pipelines.common.labelled_folder import FolderError, FolderWriter, read_folder, write_labels
from pipelines.evaluate import main
from tests.configs import small_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def model_file(tmp_path) -> Path:
    return random_model_file(tmp_path / "model.pt", small_config())


@pytest.fixture
def mixed_folder(tmp_path, drawn_number) -> Path:
    """Grey, colour, inverted, transparent and JPEG images of several sizes."""
    folder = tmp_path / "mixed"
    writer = FolderWriter(folder)
    writer.add(drawn_number("7"), "7")
    writer.add(drawn_number("123", height=90).convert("RGB"), "123")
    writer.add(ImageOps.invert(drawn_number("45.67")), "45.67")
    white = drawn_number("1000")
    writer.add(Image.merge("LA", (white, ImageOps.invert(white))), "1000")
    writer.close()
    drawn_number("0.5", height=200).convert("RGB").save(folder / "photo.jpg", quality=80)
    rows = [(p.name, label) for p, label in ((s.path, s.label) for s in read_folder(folder))]
    write_labels(folder, [*rows, ("photo.jpg", "0.5")])
    return folder


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.evaluate", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_evaluates_any_folder_and_prints_one_json_object(mixed_folder, model_file):
    result = run_cli("--data", str(mixed_folder), "--model", str(model_file))
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 5
    assert 0.0 <= metrics["exact_match"] <= 1.0
    assert metrics["cer"] >= 0.0 and metrics["ms_per_image"] > 0
    assert set(metrics["by_length"]) == {"1", "3", "5", "4"}
    assert sum(row["n"] for row in metrics["by_length"].values()) == 5


def test_the_stage_writes_no_timings_into_the_dvc_metrics(mixed_folder, model_file, tmp_path):
    metrics_file = tmp_path / "metrics" / "evaluate.json"
    evaluate = {"model": str(model_file), "sets": {"mixed": str(mixed_folder)}, "metrics": str(metrics_file)}
    params = tmp_path / "params.yaml"
    params.write_text(json.dumps({"evaluate": {**evaluate, "plots": str(tmp_path / "plots")}}))
    assert main(["--params", str(params)]) == 0
    written = json.loads(metrics_file.read_text())
    assert written["mixed"]["n"] == 5 and "ms_per_image" not in written["mixed"]


def test_missing_labels_csv(tmp_path, model_file, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["--data", str(tmp_path / "empty"), "--model", str(model_file)]) == 2
    error = capsys.readouterr().err
    assert "labels.csv" in error and "missing" in error and "Traceback" not in error


def test_label_outside_charset_names_file_and_row(mixed_folder, model_file, capsys):
    rows = [(s.path.name, s.label) for s in read_folder(mixed_folder)]
    rows[2] = (rows[2][0], "4a5")
    write_labels(mixed_folder, rows)
    assert main(["--data", str(mixed_folder), "--model", str(model_file)]) == 2
    error = capsys.readouterr().err
    assert "row 4" in error and rows[2][0] in error and "4a5" in error


def test_unreadable_image_names_file_and_row(mixed_folder, model_file, capsys):
    broken = read_folder(mixed_folder)[1]
    broken.path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    assert main(["--data", str(mixed_folder), "--model", str(model_file)]) == 2
    error = capsys.readouterr().err
    assert "row 3" in error and broken.path.name in error


def test_missing_image_and_bad_header(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    write_labels(folder, [("nope.png", "12")])
    with pytest.raises(FolderError, match=r"row 2.*nope\.png.*does not exist"):
        read_folder(folder)
    (folder / "labels.csv").write_text("file,text\nnope.png,12\n")
    with pytest.raises(FolderError, match="row 1: header"):
        read_folder(folder)


def test_unknown_model_is_a_clear_error(mixed_folder, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["--data", str(mixed_folder)]) == 2
    error = capsys.readouterr().err
    assert "cannot load model 'models:/digitify-crnn@champion'" in error
