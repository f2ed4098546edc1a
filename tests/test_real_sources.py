"""Data tests for the real-digit sources: USPS / MNIST pools, composed handwritten numbers, the USPS benchmark, SVHN.

Every fixture is written here: a fake USPS folder of digits drawn with PIL, a tiny SVHN
format-1 directory whose digitStruct.mat has MATLAB v7.3's reference layout, and a tiny
format-2 .mat file. Nothing is downloaded.
"""

from __future__ import annotations

import csv
import logging
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
import scipy.ndimage
import yaml
from PIL import Image, ImageDraw

from models.charset import CHARSET
from models.number_value import parse_value
from models.preprocess import normalize
from pipelines import handwritten_numbers, paper_numbers, svhn, usps_benchmark
from pipelines.common.data.composition import ComposeStyle, DigitSource, compose_number
from pipelines.common.data.digit_pools import (
    image_key,
    load_mnist,
    load_sklearn_digits,
    load_usps,
    split_pool,
    split_training_pools,
)
from pipelines.common.data.splits import DIGITS_FILE, SPLITS
from pipelines.common.labelled_folder import LABELS_FILE, SKIPPED_FILE, read_folder
from tests.drawing import write_usps

REPO = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- fixtures: USPS


@pytest.fixture(scope="module")
def usps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_usps(tmp_path_factory.mktemp("usps"), {"train": 6, "test": 4})


def write_params(path: Path, section: str, values: dict) -> Path:
    path.write_text(yaml.safe_dump({section: values}), encoding="utf-8")
    return path


def pools_params(usps: Path, **overrides) -> dict:
    values = {
        "usps_dir": str(usps),
        "seed": 3,
        "digit_split": {"train": 0.8, "val": 0.1, "test": 0.1},
        "weights": {"mnist": 1.0, "usps": 1.0, "sklearn": 0.05},
    }
    values.update(overrides)
    return values


def handwritten_params(tmp_path: Path, usps: Path, **overrides) -> dict:
    values = {
        "output_dir": str(tmp_path / "handwritten"),
        "pools": pools_params(usps),
        "seed": 3,
        "sizes": {"train": 230, "val": 12, "test": 12},
        "min_length": 1,
        "max_length": 8,
        "decimal_fraction": 0.35,
        "digit_height": [24, 64],
        "touch_fraction": 0.08,
        "augment_strength": 0.4,
        "dark_fraction": 0.25,
        "workers": 2,
    }
    values.update(overrides)
    return values


def digits_used(directory: Path) -> dict[str, list[str]]:
    """The real digit ids of every image in a composed folder, from digits.csv."""
    with (directory / DIGITS_FILE).open(encoding="utf-8") as handle:
        return {row["filename"]: row["digits"].split() for row in csv.DictReader(handle)}


def check_folder(directory: Path, max_normalize: int = 40) -> list:
    """Every label within the charset, every image readable and normalizable (a sample of them)."""
    samples = read_folder(directory)
    for sample in samples:
        assert sample.label and set(sample.label) <= set(CHARSET)
    for sample in samples[:max_normalize]:
        array = normalize(sample.path)
        assert array.shape[0] == 32 and array.max() > 0.5
    return samples


# ---------------------------------------------------------------- digit pools


def test_usps_loader_reads_labels_and_crops_to_ink(usps_dir: Path) -> None:
    pool = load_usps(usps_dir, "train")
    assert pool is not None and len(pool) == 60
    assert sorted(set(pool.labels.tolist())) == list(range(10))
    assert all(image.dtype == np.uint8 and image.max() > 200 for image in pool.images)
    assert all(max(image.shape) <= 16 for image in pool.images)
    assert all(image[0].max() > 40 and image[:, 0].max() > 40 for image in pool.images)
    assert pool.ids[0] == "usps-train:0"


def test_missing_usps_folder_is_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_usps(tmp_path / "nowhere", "train") is None
    assert len(caplog.records) == 1 and "continuing without USPS" in caplog.records[0].getMessage()


def test_bundled_pools_are_tight_ink_maps() -> None:
    mnist, sklearn = load_mnist(), load_sklearn_digits()
    assert len(mnist) == 5000 and len(sklearn) == 1797
    assert max(max(image.shape) for image in mnist.images) <= 20  # MNIST's 4px border is gone
    assert all(image.max() > 200 for image in sklearn.images[:50])


def test_split_pool_is_disjoint_by_content_and_honours_exclude(usps_dir: Path) -> None:
    pool = load_usps(usps_dir, "train")
    assert pool is not None
    doubled = pool.subset(np.concatenate([np.arange(len(pool)), np.arange(10)]))  # 10 exact duplicates
    excluded = {image_key(doubled.images[20])}
    parts = split_pool(doubled, {"train": 0.6, "val": 0.2, "test": 0.2}, seed=1, exclude=excluded)
    keys = {name: {image_key(image) for image in part.images} for name, part in parts.items()}
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["val"] and not keys["val"] & keys["test"]
    assert sum(len(part) for part in parts.values()) == len(doubled) - 1
    assert all(excluded.isdisjoint(k) for k in keys.values())


# ---------------------------------------------------------------- composed handwritten numbers


def test_handwritten_stage_writes_valid_disjoint_splits(tmp_path: Path, usps_dir: Path) -> None:
    params = write_params(tmp_path / "params.yaml", "handwritten_numbers", handwritten_params(tmp_path, usps_dir))
    handwritten_numbers.main(["--params", str(params)])

    used: dict[str, set[str]] = {}
    for split, size in (("train", 230), ("val", 12), ("test", 12)):
        directory = tmp_path / "handwritten" / split
        samples = check_folder(directory)
        assert len(samples) == size
        assert all(1 <= len(sample.label) <= 8 for sample in samples)
        ids = digits_used(directory)
        for sample in samples:
            assert len(ids[sample.path.name]) == len(sample.label.replace(".", ""))
        used[split] = {digit_id for row in ids.values() for digit_id in row}
        assert not any(digit_id.startswith("usps-test") for digit_id in used[split])
    assert any("." in sample.label for sample in read_folder(tmp_path / "handwritten" / "train"))

    images = {
        "mnist": load_mnist().images,
        "usps-train": load_usps(usps_dir, "train").images,
        "sklearn": load_sklearn_digits().images,
    }

    def content(split: str) -> set[str]:
        return {image_key(images[i.split(":")[0]][int(i.split(":")[1])]) for i in used[split]}

    assert not content("train") & content("test")
    assert not content("train") & content("val")


def paper_params(tmp_path: Path, usps: Path, **overrides) -> dict:
    values = {
        "output_dir": str(tmp_path / "paper"),
        "pools": pools_params(usps),
        "seed": 5,
        "counts": {"train": 60, "val": 10, "test": 20},
        "min_length": 1,
        "max_length": 9,
        "decimal_fraction": 0.3,
        "comma_fraction": 1.0,
        "dash_fraction": 0.5,
        "pen_fraction": 0.4,
        "decoration_fraction": {"train": 0.3, "val": 0.3, "test": 0.0},
        "digit_height": [24, 56],
        "touch_fraction": 0.08,
        "workers": 2,
    }
    values.update(overrides)
    return values


def test_paper_stage_labels_its_marks_and_uses_split_digits(tmp_path: Path, usps_dir: Path) -> None:
    params = write_params(tmp_path / "params.yaml", "paper_numbers", paper_params(tmp_path, usps_dir))
    paper_numbers.main(["--params", str(params)])
    used: dict[str, set[str]] = {}
    for split, size in (("train", 60), ("val", 10), ("test", 20)):
        directory = tmp_path / "paper" / split
        samples = check_folder(directory)
        assert len(samples) == size
        ids = digits_used(directory)
        composed = [s for s in samples if s.path.name in ids]
        assert 0 < len(composed) < size, "some numbers are composed from real digits, some written with a pen"
        for sample in composed:
            assert len(ids[sample.path.name]) == sum(char.isdigit() for char in sample.label)
        for sample in samples:  # the label says what is drawn, commas and dashed decimals included, and parses
            assert parse_value(sample.label).error is None, sample.label
        assert any("," in s.label for s in samples) and any(s.label.endswith("-") for s in samples)
        used[split] = {digit_id for name in ids for digit_id in ids[name]}
        assert not any(digit_id.startswith("usps-test") for digit_id in used[split])
    train_digits = {i for i in used["train"]}
    assert not train_digits & used["test"], "paper test digits never appear in paper training images"
    handwritten = handwritten_params(tmp_path, usps_dir)
    parts = split_training_pools(handwritten["pools"])
    handwritten_test = {i for pool in parts["test"].values() for i in pool.ids}
    assert used["test"] <= handwritten_test, "paper and handwritten share one split of the real digits"


def test_paper_stage_is_deterministic(tmp_path: Path, usps_dir: Path) -> None:
    values = paper_params(tmp_path / "a", usps_dir, counts={"train": 6, "val": 2, "test": 2}, workers=1)
    again = paper_params(tmp_path / "b", usps_dir, counts={"train": 6, "val": 2, "test": 2}, workers=2)
    paper_numbers.main(["--params", str(write_params(tmp_path / "a.yaml", "paper_numbers", values))])
    paper_numbers.main(["--params", str(write_params(tmp_path / "b.yaml", "paper_numbers", again))])
    for split in SPLITS:
        first, second = read_folder(tmp_path / "a" / "paper" / split), read_folder(tmp_path / "b" / "paper" / split)
        assert [s.label for s in first] == [s.label for s in second]
        assert all(a.path.read_bytes() == b.path.read_bytes() for a, b in zip(first, second, strict=True))


def test_handwritten_stage_runs_without_usps(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    values = handwritten_params(tmp_path, tmp_path / "no-usps", sizes={"train": 8, "val": 4, "test": 4}, workers=1)
    params = write_params(tmp_path / "params.yaml", "handwritten_numbers", values)
    with caplog.at_level(logging.WARNING):
        handwritten_numbers.main(["--params", str(params)])
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "USPS" in warnings[0]
    check_folder(tmp_path / "handwritten" / "train")


def test_composer_draws_a_visible_point_between_digits(usps_dir: Path) -> None:
    pool = load_usps(usps_dir, "train")
    source = DigitSource([pool], [1.0])
    style = ComposeStyle(touch_fraction=0.0)
    separate = 0
    for seed in range(20):
        ink, ids = compose_number("4.7", source, style, np.random.default_rng(seed))
        assert len(ids) == 2 and ids[0].startswith("usps-train:")
        assert ink.max() == pytest.approx(1.0)
        separate += scipy.ndimage.label(ink > 0.5)[1] >= 3  # 4, point and 7 apart
    assert separate >= 16


# ---------------------------------------------------------------- USPS benchmark


def benchmark_params(tmp_path: Path, usps: Path) -> dict:
    return {
        "output_dir": str(tmp_path / "bench"),
        "usps_dir": str(usps),
        "seed": 5,
        "size": 60,
        "max_digits": 8,
        "decimal_share": 0.33,
        "digit_height": [28, 48],
        "touch_fraction": 0.05,
        "workers": 1,
    }


def test_usps_benchmark_uses_only_test_digits_with_configured_decimals(tmp_path: Path, usps_dir: Path) -> None:
    params = write_params(tmp_path / "params.yaml", "usps_benchmark", benchmark_params(tmp_path, usps_dir))
    usps_benchmark.main(["--params", str(params)])
    directory = tmp_path / "bench" / "test"
    samples = check_folder(directory, max_normalize=60)
    assert len(samples) == 60
    assert sum("." in sample.label for sample in samples) == round(60 * 0.33)
    digit_counts = [len(sample.label.replace(".", "")) for sample in samples]
    assert min(digit_counts) >= 1 and max(digit_counts) <= 8 and len(set(digit_counts)) >= 5
    ids = [digit_id for row in digits_used(directory).values() for digit_id in row]
    assert ids and all(digit_id.startswith("usps-test:") for digit_id in ids)
    for sample in samples:
        grey = np.asarray(Image.open(sample.path).convert("L"))
        assert np.median(grey) > 200  # dark ink on white, no heavy augmentation


def test_usps_benchmark_without_usps_writes_skipped_marker(tmp_path: Path) -> None:
    params = write_params(tmp_path / "params.yaml", "usps_benchmark", benchmark_params(tmp_path, tmp_path / "none"))
    usps_benchmark.main(["--params", str(params)])
    directory = tmp_path / "bench" / "test"
    assert (directory / SKIPPED_FILE).is_file()
    assert not (directory / LABELS_FILE).exists()


# ---------------------------------------------------------------- fixtures: SVHN

# (file name, [(label 1..10, left, top, width, height)]); 10 means the digit 0
FORMAT1 = {
    "train": [
        ("1.png", [(1, 10, 8, 14, 30), (9, 26, 9, 16, 30)]),
        ("2.png", [(2, 12, 10, 16, 28), (3, 30, 11, 16, 28), (10, 48, 10, 16, 28)]),
        ("3.png", [(7, 20, 12, 18, 32)]),
        ("4.png", [(5, 40, 8, 16, 30), (4, 22, 8, 16, 30)]),  # stored right to left
        ("5.png", [(6, 20, 4, 16, 24), (8, 20, 30, 16, 24)]),  # stacked: not one row
    ],
    "test": [
        ("1.png", [(3, 8, 10, 16, 30), (1, 26, 10, 12, 30)]),
        ("2.png", [(10, 15, 10, 16, 30)]),
        ("3.png", [(9, 10, 9, 15, 29), (9, 28, 9, 15, 29), (2, 46, 9, 15, 29)]),
        ("4.png", [(6, 12, 12, 16, 28), (5, 30, 12, 16, 28)]),
    ],
}
MATLAB_HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."


def write_digit_struct(path: Path, entries: list[tuple[str, list[tuple[int, int, int, int, int]]]]) -> None:
    """Write a digitStruct.mat the way MATLAB v7.3 stores the SVHN struct array (HDF5 + object references)."""
    with h5py.File(path, "w", userblock_size=512) as handle:
        refs = handle.create_group("#refs#")
        names, bboxes = [], []
        for i, (name, boxes) in enumerate(entries):
            chars = np.array([ord(c) for c in name], dtype=np.uint16).reshape(-1, 1)
            names.append(refs.create_dataset(f"name{i}", data=chars).ref)
            group = refs.create_group(f"bbox{i}")
            for j, field in enumerate(("label", "left", "top", "width", "height")):
                values = [float(box[j]) for box in boxes]
                if len(values) == 1:
                    group.create_dataset(field, data=np.array([[values[0]]]))
                else:
                    scalar_refs = [
                        refs.create_dataset(f"bbox{i}_{field}{k}", data=np.array([[v]])).ref
                        for k, v in enumerate(values)
                    ]
                    group.create_dataset(field, data=np.array(scalar_refs, dtype=h5py.ref_dtype).reshape(-1, 1))
            bboxes.append(group.ref)
        struct = handle.create_group("digitStruct")
        struct.create_dataset("name", data=np.array(names, dtype=h5py.ref_dtype).reshape(-1, 1))
        struct.create_dataset("bbox", data=np.array(bboxes, dtype=h5py.ref_dtype).reshape(-1, 1))
    with path.open("r+b") as handle:
        handle.write(MATLAB_HEADER.ljust(128, b" "))


def draw_photo(boxes: list[tuple[int, int, int, int, int]], rng: np.random.Generator) -> Image.Image:
    """A coloured 'photo' with a digit-like dark block in every box."""
    photo = Image.new("RGB", (80, 64), tuple(int(v) for v in rng.integers(150, 255, 3)))
    pen = ImageDraw.Draw(photo)
    for _, left, top, width, height in boxes:
        pen.rectangle((left + 3, top + 3, left + width - 3, top + height - 3), outline=(20, 20, 20), width=3)
    return photo


@pytest.fixture(scope="module")
def svhn_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("svhn")
    rng = np.random.default_rng(0)
    for part, entries in FORMAT1.items():
        (root / part).mkdir()
        for name, boxes in entries:
            draw_photo(boxes, rng).save(root / part / name)
        write_digit_struct(root / part / svhn.DIGIT_STRUCT, entries)
    for part, count in (("train", 12), ("test", 6)):
        images = rng.integers(170, 230, size=(32, 32, 3, count), dtype=np.uint8)
        images[6:26, 13:19] = 30  # a dark upright stroke in the middle of every crop
        labels = (np.arange(count) % 10 + 1).reshape(-1, 1).astype(np.uint8)  # 1..10, 10 is 0
        scipy.io.savemat(root / svhn.FORMAT2_FILES[part], {"X": images, "y": labels})
    return root


def svhn_params(tmp_path: Path, data_dir: Path, **overrides) -> dict:
    values = {
        "data_dir": str(data_dir),
        "output_dir": str(tmp_path / "svhn-out"),
        "download": False,
        "base_url": "http://127.0.0.1:9/",
        "timeout_s": 10,
        "seed": 1,
        "numbers": {"train": 10, "val": 2, "test": 2},
        "single_digits": {"train": 5, "val": 2, "test": 2},
        "margin": 0.15,
        "single_crop_width": 22,
    }
    values.update(overrides)
    return values


# ---------------------------------------------------------------- SVHN


def test_read_digit_struct_gives_names_and_boxes_in_both_layouts(svhn_dir: Path) -> None:
    entries = list(svhn.read_digit_struct(svhn_dir / "train" / svhn.DIGIT_STRUCT))
    assert [name for name, _ in entries] == [name for name, _ in FORMAT1["train"]]
    for (_, boxes), (_, expected) in zip(entries, FORMAT1["train"], strict=True):
        assert [(b.label, b.left, b.top, b.width, b.height) for b in boxes] == [tuple(map(float, e)) for e in expected]
    assert svhn.digit_struct_size(svhn_dir / "test" / svhn.DIGIT_STRUCT) == 4
    assert [name for name, _ in svhn.read_digit_struct(svhn_dir / "test" / svhn.DIGIT_STRUCT, [2, 0])] == [
        "3.png",
        "1.png",
    ]


def test_number_crop_labels_left_to_right_and_skips_stacked_digits(svhn_dir: Path) -> None:
    entries = dict(svhn.read_digit_struct(svhn_dir / "train" / svhn.DIGIT_STRUCT))
    photo = Image.open(svhn_dir / "train" / "2.png")
    crop, label = svhn.number_crop(photo, entries["2.png"], margin=0.15)
    assert label == "230"
    assert crop.size == (69 - 7, 44 - 5)  # union x 12..64, y 10..39, plus 0.15 * 29 px each side
    assert svhn.number_crop(photo, entries["4.png"], 0.15)[1] == "45"
    assert svhn.number_crop(photo, entries["5.png"], 0.15) is None
    assert svhn.number_crop(photo, [svhn.Box(11, 1, 1, 10, 10)], 0.15) is None


def test_format2_loader_maps_label_10_to_0(svhn_dir: Path) -> None:
    images, labels = svhn.load_cropped_digits(svhn_dir / svhn.FORMAT2_FILES["train"])
    assert images.shape == (12, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]


def test_svhn_stage_writes_numbers_and_single_digits(tmp_path: Path, svhn_dir: Path) -> None:
    params = write_params(tmp_path / "params.yaml", "svhn", svhn_params(tmp_path, svhn_dir))
    svhn.main(["--params", str(params)])
    out = tmp_path / "svhn-out"
    train = check_folder(out / "train")
    assert sorted(s.label for s in train if len(s.label) > 1) == ["19", "230", "45"]
    assert sum(len(s.label) == 1 for s in train) == 5 + 1  # 5 single digits + the one-digit photo "7"
    assert Image.open(train[-1].path).size == (22, 32)
    val, test = check_folder(out / "val"), check_folder(out / "test")
    assert len(val) == len(test) == 4
    assert sorted(s.label for s in val[:2] + test[:2]) == sorted(["31", "0", "992", "65"])  # disjoint photos


def test_svhn_offline_without_data_logs_one_line_and_marks_splits_skipped(tmp_path: Path) -> None:
    values = svhn_params(tmp_path, tmp_path / "empty", download=True, base_url="http://127.0.0.1:9/")
    params = write_params(tmp_path / "params.yaml", "svhn", values)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.svhn", "--params", str(params)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"SVHN: no data in {tmp_path / 'empty'} and download failed (offline?): skipping" in lines[0]
    assert "the pipeline continues with the other sources" in lines[0]
    for split in SPLITS:
        directory = tmp_path / "svhn-out" / split
        assert (directory / SKIPPED_FILE).is_file() and not (directory / LABELS_FILE).exists()
    assert not list((tmp_path / "empty").glob("*.part"))
