"""Real pen trajectories (UCI pendigits): the UNIPEN reader, the writer split and the ``pen_real`` stage."""

from __future__ import annotations

import csv
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from models.charset import invalid_chars
from pipelines import pen_real
from pipelines.common.data.pen import sample_writer, trace_number
from pipelines.common.data.pendigits import PenDigitsError, RealHand, read_unipen, writer_split, writers_of
from tests.drawing import write_pendigits

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared/data/pendigits"


@pytest.fixture(scope="module")
def pendigits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six training writers and three test writers, each writing every digit twice."""
    return write_pendigits(tmp_path_factory.mktemp("pendigits"), {"train": 6, "test": 3})


def stage_params(pendigits_dir: Path, output: Path) -> dict:
    """The committed ``pen_real`` section, small, pointed at the fixture."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["pen_real"]
    params.update(
        output_dir=str(output),
        pendigits_dir=str(pendigits_dir),
        val_writers=2,
        counts={"train": 40, "val": 20, "test": 30},
        decoration_fraction={"train": 0.5, "val": 0.5, "test": 0.0},
        workers=1,
    )
    return params


def test_digits_are_read_upright_one_digit_height_on_the_baseline(pendigits):
    digits = read_unipen(pendigits / "pendigits-orig.tra.gz")
    assert len(digits) == 6 * 2 * 10
    assert sorted(writers_of(digits)) == [f"tra-{w}" for w in range(1, 7)]
    for digit in digits:
        every = np.vstack(digit.strokes)
        assert every[:, 1].max() == pytest.approx(0.0) and every[:, 1].min() == pytest.approx(-1.0)
        assert every[:, 0].min() == pytest.approx(0.0)
    seven = next(d for d in digits if d.label == 7)
    bar = seven.strokes[0]  # segment "a": the top bar, drawn first
    assert np.allclose(bar[:, 1], -1.0, atol=0.02), "tablet y grows upwards: the 7's bar must come out on top"


def test_a_malformed_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "broken.tra"
    path.write_text('.SEGMENT DIGIT 0 ? "3"\n.COMMENT 3 1 0\n.PEN_DOWN\n 12 oops\n.PEN_UP\n')
    with pytest.raises(PenDigitsError, match=r"broken\.tra:4: expected 'x y'"):
        read_unipen(path)
    path.write_text('.SEGMENT DIGIT 0 ? "3"\n.COMMENT 3 1 0\n')
    with pytest.raises(PenDigitsError, match="has no stroke"):
        read_unipen(path)


def test_val_writers_are_held_out_whole(pendigits):
    train, val = writer_split(read_unipen(pendigits / "pendigits-orig.tra.gz"), val_writers=2, seed=41)
    assert len(val) == 2 and len(train) == 4 and not set(train) & set(val)
    with pytest.raises(ValueError, match="val_writers"):
        writer_split(read_unipen(pendigits / "pendigits-orig.tra.gz"), val_writers=6, seed=41)


def test_a_real_hand_writes_each_digit_with_that_writers_own_trajectories(pendigits):
    writers = writers_of(read_unipen(pendigits / "pendigits-orig.tes.gz"))
    name = sorted(writers)[0]
    rng = np.random.default_rng(0)
    hand = RealHand(writers[name], slant=0.0, aspect=1.0)
    strokes, widths = trace_number("4.07", sample_writer(rng), rng, glyphs=hand)
    assert len(hand.used) == 3 and all(used.startswith(f"{name}:") for used in hand.used)
    assert len(strokes) == len(widths) >= 3 + 1  # the 4 alone has three segments; the point one stroke
    assert all(np.isfinite(stroke).all() for stroke in strokes)


def read_rows(folder: Path, name: str) -> list[list[str]]:
    with (folder / name).open() as handle:
        return list(csv.reader(handle))[1:]


def test_the_stage_keeps_writers_apart_and_labels_clean(pendigits, tmp_path):
    params = stage_params(pendigits, tmp_path / "pen_real")
    assert pen_real.generate(params) == {"train": 40, "val": 20, "test": 30}
    writers_by_split = {}
    for split in ("train", "val", "test"):
        folder = tmp_path / "pen_real" / split
        labels = read_rows(folder, "labels.csv")
        assert len(labels) == params["counts"][split]
        assert all(label and not invalid_chars(label) for _, label in labels)
        used = [ids.split() for _, ids in read_rows(folder, "digits.csv")]
        assert [len(ids) for ids in used] == [sum(c.isdigit() for c in label) for _, label in labels]
        writers_by_split[split] = {digit.split(":")[0] for ids in used for digit in ids}
    assert all(w.startswith("tes-") for w in writers_by_split["test"])
    assert not any(w.startswith("tes-") for w in writers_by_split["train"] | writers_by_split["val"])
    assert not writers_by_split["train"] & writers_by_split["val"]


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_the_test_split_depends_neither_on_decorations_nor_on_workers(pendigits, tmp_path):
    plain = stage_params(pendigits, tmp_path / "a")
    plain["counts"] = {"test": 30}
    other = {**plain, "output_dir": str(tmp_path / "b"), "workers": 2}
    other["decoration_fraction"] = {"train": 1.0, "val": 1.0, "test": 0.0}
    pen_real.generate(plain)
    pen_real.generate(other)
    assert folder_digest(tmp_path / "a/test") == folder_digest(tmp_path / "b/test")


def test_without_the_data_every_split_says_why_it_was_skipped(tmp_path):
    params = stage_params(tmp_path / "nowhere", tmp_path / "pen_real")
    assert pen_real.generate(params) == {}
    for split in ("train", "val", "test"):
        folder = tmp_path / "pen_real" / split
        assert not (folder / "labels.csv").exists()
        assert "not found" in (folder / "SKIPPED").read_text()


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/pendigits is not beside the project")
def test_the_shared_pendigits_files_parse_with_their_documented_counts():
    with gzip.open(SHARED / "pendigits-orig.tra.gz", "rt") as handle:
        assert hashlib.sha256(handle.read().encode()).hexdigest().startswith("a66225d6")
    train = read_unipen(SHARED / "pendigits-orig.tra.gz")
    test = read_unipen(SHARED / "pendigits-orig.tes.gz")
    assert (len(train), len(test)) == (7494, 3498)
    assert (len(writers_of(train)), len(writers_of(test))) == (30, 14)
    sevens = [d for d in train if d.label == 7]
    starts = np.array([d.strokes[0][0, 1] for d in sevens])
    assert np.median(starts) < -0.7, "a 7 starts at its top: y must be flipped from the tablet's"
