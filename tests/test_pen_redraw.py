"""Real digits redrawn as round-pen strokes: stroke width, where the ink goes, loops, and the random streams.

The digits are drawn here (thick, blurred, uneven strokes, as a scan gives them) and a fake
USPS folder stands in for the real pools; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw

from pipelines import handwritten_numbers
from pipelines.common.data import splits
from pipelines.common.data.composition import ComposeStyle, DigitSource, NumberSettings, compose_number, draw_numbers
from pipelines.common.data.composition import ink_to_paper as paper
from pipelines.common.data.digit_pools import load_usps
from pipelines.common.data.pen_redraw import count_holes, redraw_as_pen, thin
from tests.drawing import write_usps


def scanned_digit(shape: str, size: int = 64) -> np.ndarray:
    """A thick, blurred digit whose stroke width varies along the stroke (ink high, float in [0, 1])."""
    image = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(image)
    if shape == "0":
        pen.ellipse((12, 4, 52, 60), fill=255)
        pen.ellipse((19, 15, 39, 49), fill=0)  # off centre: the stroke is 7 to 13 pixels wide
    elif shape == "7":
        pen.line((12, 10, 52, 10), fill=255, width=10)
        pen.line((52, 10, 26, 58), fill=255, width=6)
    else:
        pen.ellipse((16, 16, 48, 48), fill=255)
    return cv2.GaussianBlur(np.asarray(image, dtype=np.float32) / 255.0, (0, 0), 1.5)


def stroke_widths(ink: np.ndarray) -> np.ndarray:
    """Twice the distance from the skeleton to the nearest background: the stroke width along the strokes."""
    mask = ink >= 0.5
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return 2.0 * inside[thin(mask)]


@pytest.mark.parametrize("shape", ["0", "7"])
@pytest.mark.parametrize("width", [4.0, 8.0])
def test_redrawn_strokes_have_the_pen_width_everywhere(shape: str, width: float) -> None:
    source = scanned_digit(shape)
    assert np.ptp(stroke_widths(source)) > 4  # the scan's stroke is uneven
    redrawn = redraw_as_pen(source, width)
    assert redrawn.dtype == np.float32 and redrawn.shape == source.shape
    assert redrawn.max() == pytest.approx(1.0) and redrawn.min() == 0.0
    widths = stroke_widths(redrawn)
    assert np.median(widths) == pytest.approx(width, abs=1.5)
    assert np.percentile(widths, 90) - np.percentile(widths, 10) <= 2.5
    edge = (redrawn > 0.05) & (redrawn < 0.95)
    assert edge.sum() < 0.6 * (redrawn >= 0.5).sum()  # sharp antialiased edges, not a blur


def grown(mask: np.ndarray, size: int) -> np.ndarray:
    """Dilate a mask with a ``size`` x ``size`` square."""
    return cv2.dilate(mask.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool)


@pytest.mark.parametrize("shape", ["0", "7"])
def test_redrawn_ink_stays_where_the_digit_was(shape: str) -> None:
    source = scanned_digit(shape) >= 0.5
    redrawn = redraw_as_pen(scanned_digit(shape), 5.0) >= 0.5
    assert not (redrawn & ~grown(source, 7)).any()  # no ink more than 3 pixels off the scan's
    centre = thin(source)
    assert (centre & grown(redrawn, 7)).sum() >= 0.9 * centre.sum()  # the centre lines are drawn
    wide_source, wide_redrawn = grown(source, 13), grown(redrawn, 13)
    assert (wide_source & wide_redrawn).sum() / (wide_source | wide_redrawn).sum() > 0.75
    assert redrawn.sum() < 0.8 * source.sum()  # thinner than the scan's thick stroke


def test_loops_are_kept_or_the_redraw_is_refused() -> None:
    ring = redraw_as_pen(scanned_digit("0"), 5.0, min_holes=1)
    assert ring is not None and count_holes(ring) == 1
    assert count_holes(redraw_as_pen(scanned_digit("7"), 5.0)) == 0
    assert redraw_as_pen(scanned_digit("filled"), 5.0, min_holes=1) is None  # a filled loop thins to a dot
    assert redraw_as_pen(np.zeros((30, 40), np.float32), 5.0) is None  # nothing to redraw: the caller keeps its look


# ---------------------------------------------------------------- in the composer


@pytest.fixture(scope="module")
def usps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_usps(tmp_path_factory.mktemp("usps"), {"train": 20})


@pytest.fixture(scope="module")
def source(usps: Path) -> DigitSource:
    return DigitSource([load_usps(usps, "train")], [1.0])


def test_composer_draws_the_same_random_numbers_with_or_without_the_pen(source: DigitSource) -> None:
    style = ComposeStyle()
    for seed in range(4):
        plain, redrawn = np.random.default_rng(seed), np.random.default_rng(seed)
        ink, ids = compose_number("40.7", source, style, plain)
        pen_ink, pen_ids = compose_number("40.7", source, style, redrawn, pen=0.1)
        assert ids == pen_ids and ink.shape == pen_ink.shape
        assert plain.random() == redrawn.random()  # the composing stream is left where it was


def numbers(source: DigitSource, fraction: float, monkeypatch: pytest.MonkeyPatch, count: int = 12) -> list:
    texts = tuple(str(n) for n in np.random.default_rng(0).integers(0, 10**5, count))
    settings = NumberSettings(texts, ComposeStyle(), seed=(5, 0), augment_strength=0.0, dark_fraction=0.0)
    if fraction:
        settings = NumberSettings(**{**settings.__dict__, "pen_redraw_fraction": fraction})
    monkeypatch.setattr(splits, "_SHARED", {"train": source})
    return draw_numbers(splits.Chunk("train", 0, 0, 0, count, settings))


def test_fraction_zero_draws_every_number_as_before(source: DigitSource, monkeypatch: pytest.MonkeyPatch) -> None:
    samples = numbers(source, 0.0, monkeypatch)
    for index, sample in enumerate(samples):
        ink, ids = compose_number(sample.label, source, ComposeStyle(), np.random.default_rng([5, 0, index]))
        assert np.array_equal(sample.image, paper(ink)) and sample.digits == tuple(ids)


def test_redrawn_numbers_differ_and_the_others_do_not(source: DigitSource, monkeypatch: pytest.MonkeyPatch) -> None:
    before = numbers(source, 0.0, monkeypatch)
    everything = numbers(source, 1.0, monkeypatch)
    assert [s.label for s in everything] == [s.label for s in before]
    assert [s.digits for s in everything] == [s.digits for s in before]
    changed = [not np.array_equal(a.image, b.image) for a, b in zip(before, everything, strict=True)]
    assert sum(changed) >= 0.6 * len(changed)  # all but those whose loops a redraw would lose
    half = numbers(source, 0.5, monkeypatch)
    changed_half = [not np.array_equal(a.image, b.image) for a, b in zip(before, half, strict=True)]
    assert 0 < sum(changed_half) < len(changed_half)
    assert all(c <= e for c, e in zip(changed_half, changed, strict=True))


def test_redrawn_numbers_are_dark_ink_on_white(source: DigitSource, monkeypatch: pytest.MonkeyPatch) -> None:
    for sample in numbers(source, 1.0, monkeypatch, count=4):
        assert sample.image.dtype == np.uint8 and sample.image.min() == 0
        assert np.median(sample.image) == 255


def test_usps_benchmark_settings_default_to_no_redraw() -> None:
    assert NumberSettings((), ComposeStyle(), (1,), 0.0, 0.0).pen_redraw_fraction == 0.0


def test_stage_redraws_per_split_and_leaves_test_as_it_was(tmp_path: Path, usps: Path) -> None:
    def run(name: str, **extra: object) -> dict[str, dict[str, bytes]]:
        values = {
            "output_dir": str(tmp_path / name),
            "pools": {
                "usps_dir": str(usps),
                "seed": 3,
                "digit_split": {"train": 0.8, "val": 0.1, "test": 0.1},
                "weights": {"mnist": 0.0, "usps": 1.0, "sklearn": 1.0},
            },
            "seed": 3,
            "sizes": {"train": 6, "val": 2, "test": 6},
            "min_length": 1,
            "max_length": 5,
            "decimal_fraction": 0.35,
            "digit_height": [24, 64],
            "touch_fraction": 0.08,
            "augment_strength": 0.3,
            "dark_fraction": 0.25,
            "workers": 1,
            **extra,
        }
        params = tmp_path / f"{name}.yaml"
        params.write_text(yaml.safe_dump({"handwritten_numbers": values}), encoding="utf-8")
        handwritten_numbers.main(["--params", str(params)])
        return {
            split: {p.name: p.read_bytes() for p in sorted((tmp_path / name / split).glob("*.png"))}
            for split in ("train", "test")
        }

    plain = run("plain")
    redrawn = run("redrawn", pen_redraw_fraction={"train": 1.0, "val": 1.0, "test": 0.0})
    assert redrawn["test"] == plain["test"] and len(plain["test"]) == 6
    assert redrawn["train"].keys() == plain["train"].keys()
    assert any(redrawn["train"][name] != plain["train"][name] for name in plain["train"])
