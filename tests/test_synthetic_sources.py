"""Data tests for the generated sources (synthetic_fonts and pen_strokes on tiny parameters) and the augmentation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from models.charset import CHARSET
from models.preprocess import MAX_WIDTH, TARGET_HEIGHT, WIDTH_MULTIPLE, normalize
from pipelines import pen_strokes, synthetic_fonts
from pipelines.common.data.augment import build_augmenter, build_jitter
from pipelines.common.labelled_folder import LABELS_FILE, read_folder
from pipelines.common.training.packed_data import PackedDataModule, pack

REPO = Path(__file__).resolve().parents[1]
FONTS_DIR = REPO / "node_modules" / "@fontsource"
SPLITS = ("train", "val", "test")
COUNTS = {"train": 90, "val": 15, "test": 15}
LENGTHS = (2, 7)
DECIMAL_FRACTION = 0.5


def write_params(directory: Path, name: str) -> Path:
    """A tiny params file for both stages, writing under ``directory/name``."""
    common = {
        "counts": COUNTS,
        "min_length": LENGTHS[0],
        "max_length": LENGTHS[1],
        "decimal_fraction": DECIMAL_FRACTION,
        "workers": 2,
    }
    params = {
        "synthetic_fonts": {
            **common,
            "output_dir": str(directory / name / "fonts"),
            "fonts_dir": str(FONTS_DIR),
            "heldout_fonts": {"val": 3, "test": 3},
            "augment_strength": 0.7,
            "seed": 5,
        },
        "pen_strokes": {
            **common,
            "output_dir": str(directory / name / "strokes"),
            "augment_strength": 0.5,
            "clean_fraction": 0.3,
            "paper_fraction": 0.25,
            "decoration_fraction": {"train": 0.35, "val": 0.35, "test": 0.0},
            "seed": 6,
        },
    }
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run both stages once on the tiny parameters; return their output folders."""
    if not any(FONTS_DIR.glob("*/files/*-latin-400-normal.woff")):
        pytest.fail(f"no fonts under {FONTS_DIR}: run `npm ci --no-audit --no-fund` at the repository root")
    directory = tmp_path_factory.mktemp("sources")
    params = write_params(directory, "first")
    synthetic_fonts.main(["--params", str(params)])
    pen_strokes.main(["--params", str(params)])
    return {"fonts": directory / "first" / "fonts", "strokes": directory / "first" / "strokes"}


@pytest.mark.parametrize("source", ["fonts", "strokes"])
def test_every_split_is_a_valid_labelled_folder(generated: dict[str, Path], source: str) -> None:
    for split in SPLITS:
        samples = read_folder(generated[source] / split)
        assert len(samples) == COUNTS[split]
        names = [s.path.name for s in samples]
        assert len(set(names)) == len(names)
        assert sorted(p.name for p in (generated[source] / split).glob("*.png")) == sorted(names)
        for sample in samples:
            assert set(sample.label) <= set(CHARSET)
            with Image.open(sample.path) as image:
                assert image.mode in ("L", "RGB")
                assert 40 <= image.height <= 120
            array = normalize(sample.path)
            assert array.shape[0] == 32
            assert array.max() > 0.5


@pytest.mark.parametrize("source", ["fonts", "strokes"])
def test_lengths_and_decimals_follow_the_parameters(generated: dict[str, Path], source: str) -> None:
    labels = [s.label for split in SPLITS for s in read_folder(generated[source] / split)]
    lengths = Counter(len(label) for label in labels)
    assert min(lengths) >= LENGTHS[0]
    assert max(lengths) <= LENGTHS[1]
    assert len(lengths) >= 4
    eligible = [label for label in labels if len(label) >= 3]
    share = sum("." in label for label in eligible) / len(eligible)
    assert abs(share - DECIMAL_FRACTION) < 0.2
    for label in labels:
        assert label.count(".") <= 1
        assert not label.startswith(".") and not label.endswith(".")


def test_val_and_test_fonts_are_held_out(generated: dict[str, Path]) -> None:
    split = json.loads((generated["fonts"] / "fonts.json").read_text(encoding="utf-8"))
    train, val, test = (set(split[name]) for name in SPLITS)
    assert len(val) == 3 and len(test) == 3 and len(train) >= 4
    assert not train & val and not train & test and not val & test


def test_generation_is_deterministic(generated: dict[str, Path], tmp_path: Path) -> None:
    params = write_params(tmp_path, "second")
    synthetic_fonts.main(["--params", str(params)])
    pen_strokes.main(["--params", str(params)])
    for source in ("fonts", "strokes"):
        for split in SPLITS:
            first = (generated[source] / split / LABELS_FILE).read_text(encoding="utf-8")
            second = (tmp_path / "second" / source / split / LABELS_FILE).read_text(encoding="utf-8")
            assert first == second
        image = "train/000007.png"
        assert np.array_equal(
            np.asarray(Image.open(generated[source] / image)),
            np.asarray(Image.open(tmp_path / "second" / source / image)),
        )


def test_fonts_stage_without_fonts_says_to_run_npm_ci(tmp_path: Path) -> None:
    params = write_params(tmp_path, "empty")
    text = yaml.safe_load(params.read_text(encoding="utf-8"))
    text["synthetic_fonts"]["fonts_dir"] = str(tmp_path / "missing")
    params.write_text(yaml.safe_dump(text), encoding="utf-8")
    with pytest.raises(SystemExit, match="npm ci"):
        synthetic_fonts.main(["--params", str(params)])


def two_bars_on_white() -> np.ndarray:
    """Two dark vertical bars on white, a stand-in for a drawn number."""
    image = np.full((60, 160), 255, np.uint8)
    image[15:45, 20:26] = 0
    image[15:45, 60:66] = 0
    return image


@pytest.mark.parametrize("layout", ["grey", "rgb"])
def test_augmenter_keeps_layout_and_a_readable_number(layout: str) -> None:
    image = two_bars_on_white()
    if layout == "rgb":
        image = np.stack([image] * 3, axis=-1)
    augment = build_augmenter(1.0, seed=3)
    for _ in range(20):
        out = augment(image=image)["image"]
        assert out.dtype == np.uint8
        assert out.ndim == image.ndim
        assert normalize(out).max() > 0.5
    assert np.array_equal(build_augmenter(0.0, seed=3)(image=image)["image"], image)


def two_bars() -> np.ndarray:
    """The two bars, normalized (ink 1 on 0)."""
    return normalize(two_bars_on_white())


def test_jitter_keeps_the_normalized_form_and_varies_the_image() -> None:
    pixels = np.round(two_bars() * 255).astype(np.uint8)
    jitter = build_jitter(1.0, seed=5)
    outputs = [jitter(image=pixels)["image"] for _ in range(20)]
    for out in outputs:
        assert out.dtype == np.uint8
        assert out.shape[0] == TARGET_HEIGHT
        assert out.shape[1] % WIDTH_MULTIPLE == 0 and out.shape[1] <= MAX_WIDTH
        assert out.max() > 128  # the ink survives
        assert abs(int((out > 128).sum()) - int((pixels > 128).sum())) < 0.6 * (pixels > 128).sum()
    assert len({out.tobytes() for out in outputs}) == len(outputs)
    assert len({out.shape[1] for out in outputs}) > 1
    again = build_jitter(1.0, seed=5)
    assert all(np.array_equal(again(image=pixels)["image"], out) for out in outputs)
    assert np.array_equal(build_jitter(0.0, seed=5)(image=pixels)["image"], pixels)


def test_training_batches_are_jittered_afresh_each_epoch_and_validation_is_not() -> None:
    images = [two_bars() for _ in range(6)]
    packed = pack(images, ["11"] * 6, ["test"] * 6)
    data = PackedDataModule(packed, packed, batch_size=6, seed=0, jitter=1.0)
    train = data.train_dataloader()
    first, second = next(iter(train)), next(iter(train))
    assert first[4] == second[4] == ["11"] * 6
    assert not torch.equal(first[0][..., : first[1].min()], second[0][..., : second[1].min()])
    stored = torch.from_numpy(np.stack(images))[:, None]
    assert not torch.equal(first[0][..., : stored.shape[-1]], stored)
    val = data.val_dataloader()
    assert torch.equal(next(iter(val))[0], stored)
    assert torch.equal(next(iter(val))[0], next(iter(val))[0])
