"""Marks drawn around numbers but kept out of their labels: the decorations and their wiring into ``pen_strokes``."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from models.charset import CHARSET
from pipelines import pen_strokes
from pipelines.common.data.decorations import decorate
from pipelines.common.data.number_text import sample_number
from pipelines.common.data.pen import render, sample_writer, trace_number
from pipelines.common.labelled_folder import LABELS_FILE

CASES = 80
TINY = 0.06  # a stroke this small in both directions is a dot


def _densify(stroke: np.ndarray, spacing: float = 0.02) -> np.ndarray:
    """Points along a polyline at most ``spacing`` apart."""
    pieces = [stroke[:1]]
    for a, b in itertools.pairwise(stroke):
        count = max(1, int(np.ceil(np.linalg.norm(b - a) / spacing)))
        pieces.append(a + (b - a) * np.linspace(0.0, 1.0, count + 1)[1:, None])
    return np.vstack(pieces)


def _gap(mark: np.ndarray, width: float, strokes: list[np.ndarray], widths: list[float]) -> float:
    """The smallest distance between the ink of ``mark`` and the ink of ``strokes``."""
    ink = [_densify(s) for s in strokes]
    radii = np.concatenate([np.full(len(points), w / 2) for points, w in zip(ink, widths, strict=True)])
    distances = np.linalg.norm(_densify(mark)[:, None] - np.vstack(ink)[None], axis=2)
    return float((distances - radii - width / 2).min())


def _decorated_numbers() -> list[tuple[str, list[np.ndarray], list[float], list[np.ndarray], list[float]]]:
    """Numbers written on a level baseline, before and after decoration."""
    rng = np.random.default_rng(2024)
    cases = []
    for index in range(CASES):
        label = sample_number(rng, 1, 8, 0.35)
        writer = dataclasses.replace(sample_writer(rng), drift=0.0)
        strokes, widths = trace_number(label, writer, rng)
        new_strokes, new_widths = decorate(strokes, widths, writer.pen, np.random.default_rng(index))
        cases.append((label, strokes, widths, new_strokes, new_widths))
    return cases


@pytest.fixture(scope="module")
def decorated() -> list[tuple[str, list[np.ndarray], list[float], list[np.ndarray], list[float]]]:
    """The decorated numbers, drawn once for the module."""
    return _decorated_numbers()


def test_decorations_add_marks_and_keep_every_original_stroke(decorated) -> None:
    for _, strokes, widths, new_strokes, new_widths in decorated:
        assert len(new_strokes) == len(new_widths) > len(strokes)
        for old, new in zip(strokes, new_strokes, strict=False):
            assert np.array_equal(old, new)
        assert new_widths[: len(widths)] == widths
        for mark, width in zip(new_strokes[len(strokes) :], new_widths[len(widths) :], strict=True):
            assert mark.ndim == 2 and mark.shape[1] == 2 and len(mark) >= 2 and np.isfinite(mark).all()
            assert 0.0 < width < 0.6


def test_decorations_are_deterministic_and_render() -> None:
    rng = np.random.default_rng(5)
    writer = sample_writer(rng)
    strokes, widths = trace_number("1234.5", writer, rng)
    first = decorate(strokes, widths, writer.pen, np.random.default_rng(9))
    second = decorate(strokes, widths, writer.pen, np.random.default_rng(9))
    assert all(np.array_equal(a, b) for a, b in zip(first[0], second[0], strict=True)) and first[1] == second[1]
    image = render(*first, np.random.default_rng(0), writer.pressure)
    assert image.dtype == np.uint8 and image.min() < 128


def test_marks_keep_clear_of_the_digits(decorated) -> None:
    touching_lines = 0
    for _, strokes, widths, new_strokes, new_widths in decorated:
        left = min(float(s[:, 0].min()) for s in strokes)
        right = max(float(s[:, 0].max()) for s in strokes)
        for mark, width in zip(new_strokes[len(strokes) :], new_widths[len(widths) :], strict=True):
            gap = _gap(mark, width, strokes, widths)
            long_line = np.ptp(mark[:, 0]) >= max(0.6 * (right - left), 5 * np.ptp(mark[:, 1]))
            if long_line and gap < 0.05:  # underlines may touch the digits, never cut through them
                touching_lines += 1
                assert gap > -0.05
            else:
                assert gap >= 0.05
    assert touching_lines < CASES // 5


def test_specks_stay_off_the_baseline_between_and_beside_digits(decorated) -> None:
    specks = 0
    for _, strokes, _, new_strokes, _ in decorated:
        right = max(float(s[:, 0].max()) for s in strokes)
        added = new_strokes[len(strokes) :]
        for index, mark in enumerate(added):
            if np.ptp(mark, axis=0).max() >= TINY:
                continue
            x, y = mark.mean(axis=0)
            follower = added[index + 1] if index + 1 < len(added) else None
            if x > right and follower is not None and follower[:, 0].min() > x and np.ptp(follower[:, 0]) > 0.2:
                continue  # the point of a trailing ".-"
            specks += 1
            assert y < -0.15 or y > 0.25, f"a speck at ({x:.2f}, {y:.2f}) sits on the baseline like a decimal point"
    assert specks > 0


def _is_dash(mark: np.ndarray) -> bool:
    """A short level stroke between the baseline and the top of the digits: what a minus sign looks like."""
    wide, tall = np.ptp(mark, axis=0)
    return wide > 3 * tall and 0.1 < wide < 0.9 and -0.8 < float(mark[:, 1].mean()) < -0.15


def test_no_decoration_is_a_lone_dash_that_reads_as_a_minus_sign(decorated) -> None:
    level = 0
    for _, strokes, _, new_strokes, _ in decorated:
        added = [_densify(mark) for mark in new_strokes[len(strokes) :]]
        for index, mark in enumerate(added):
            if not _is_dash(mark):
                continue
            level += 1  # the bars of an "=", a "€" or a "£": each has another stroke of its sign close by
            others = [other for i, other in enumerate(added) if i != index]
            near = min((float(np.linalg.norm(mark[:, None] - o[None], axis=2).min()) for o in others), default=np.inf)
            assert near < 0.45, f"a lone dash at height {-float(mark[:, 1].mean()):.2f} beside the number"
    assert level > 0, "some numbers get a trailing ="


def _stage_params(directory: Path, name: str, fraction: dict[str, float]) -> dict:
    """Tiny ``pen_strokes`` parameters writing under ``directory/name``."""
    params = {
        "output_dir": str(directory / name),
        "counts": {"train": 24, "val": 6, "test": 16},
        "min_length": 1,
        "max_length": 8,
        "decimal_fraction": 0.35,
        "augment_strength": 0.5,
        "clean_fraction": 0.3,
        "paper_fraction": 0.25,
        "workers": 1,
        "seed": 12,
        "decoration_fraction": fraction,
    }
    return params


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of a labelled folder by name, as bytes."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_stage_decorates_train_and_val_only_and_keeps_test_and_labels(tmp_path: Path) -> None:
    pen_strokes.generate(_stage_params(tmp_path, "plain", {"train": 0.0, "val": 0.0, "test": 0.0}))
    pen_strokes.generate(_stage_params(tmp_path, "decorated", {"train": 1.0, "val": 1.0, "test": 0.0}))
    assert _files(tmp_path / "decorated" / "test") == _files(tmp_path / "plain" / "test")
    assert _files(tmp_path / "decorated" / "train") != _files(tmp_path / "plain" / "train")
    for split in ("train", "val", "test"):
        rows = (tmp_path / "decorated" / split / LABELS_FILE).read_text().splitlines()[1:]
        labels = [row.split(",", 1)[1] for row in rows]
        assert labels and all(label and set(label) <= set(CHARSET) for label in labels)
