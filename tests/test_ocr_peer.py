"""The RapidOCR peer benchmark (benchmarks/ocr_peer.py): its pure helpers, its exit on a missing peer
virtualenv, and (only where ``bash scripts/setup_ocr_peer.sh`` has been run) one small real run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.ocr_peer import (
    CHARSET,
    BenchmarkError,
    main,
    normalise_text,
    parse_set,
    read_labels,
)
from models.charset import CHARSET as MODEL_CHARSET
from pipelines.common.labelled_folder import write_labels


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", "12.5"),
        ("12,5", "12,5"),
        ("1,250,000.50", "1,250,000.50"),
        ("125,-", "125,-"),
        ("１２．５", "12.5"),
        (" 3 4 ", "34"),
        ("−7", "-7"),
        ("+3", "+3"),
        ("1.5E-3", "1.5e-3"),
        ("6.02x10²³", "6.02×10^23"),
        ("10⁻⁴", "10^-4"),
        ("No. 42", ".42"),
        ("O1l", "1"),
        ("", ""),
    ],
)
def test_normalise_text_keeps_our_charset(raw, expected):
    assert normalise_text(raw) == expected


def test_charset_is_the_models():
    assert CHARSET == MODEL_CHARSET


def folder_of(tmp_path: Path, drawn_number, labels: list[str]) -> Path:
    folder = tmp_path / "set"
    folder.mkdir()
    for i, label in enumerate(labels):
        drawn_number(label).save(folder / f"{i}.png")
    write_labels(folder, [(f"{i}.png", label) for i, label in enumerate(labels)])
    return folder


def test_read_labels_and_limit(tmp_path, drawn_number):
    folder = folder_of(tmp_path, drawn_number, ["1", "2.5", "30"])
    assert [row.label for row in read_labels(folder)] == ["1", "2.5", "30"]
    assert [row.path.name for row in read_labels(folder, limit=2)] == ["0.png", "1.png"]


def test_read_labels_errors(tmp_path, drawn_number):
    with pytest.raises(BenchmarkError, match=r"labels\.csv"):
        read_labels(tmp_path)
    folder = folder_of(tmp_path, drawn_number, ["7"])
    (folder / "0.png").unlink()
    with pytest.raises(BenchmarkError, match=r"row 2: image file '0\.png'"):
        read_labels(folder)


def test_parse_set():
    assert parse_set("usps=datasets/usps/test") == ("usps", Path("datasets/usps/test"))
    with pytest.raises(Exception, match="NAME=DIR"):
        parse_set("datasets/usps/test")


def test_missing_peer_venv_exits_2_with_the_setup_command(tmp_path, capsys):
    assert main(["--peer-python", str(tmp_path / "missing" / "python")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "bash scripts/setup_ocr_peer.sh" in err[0]
