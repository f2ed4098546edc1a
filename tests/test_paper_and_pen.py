"""Amounts as people write them, the pen writer's habits, and paper as scanners and phones see it."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.common.data.number_text import as_written, sample_number
from pipelines.common.data.paper import PaperStyle, put_on_paper
from pipelines.common.data.pen import draw_number, sample_writer, trace_number


def test_no_marks_when_their_fractions_are_zero():
    rng = np.random.default_rng(1)
    for _ in range(100):
        number = sample_number(rng, 1, 9, 0.3)
        assert as_written(number, rng, 0.0, 0.0) == number


def test_pen_writer_draws_marks_as_ink_beside_the_digits():
    plain = draw_number("125", np.random.default_rng(3))
    marked = draw_number("1,250,-", np.random.default_rng(3))
    assert plain.dtype == np.float32 and plain.min() >= 0.0 and plain.max() <= 1.0
    assert marked.shape[1] / marked.shape[0] > plain.shape[1] / plain.shape[0], "marks widen the number"


def test_pen_habits_change_the_strokes_but_not_their_count():
    rng = np.random.default_rng(4)
    writer = sample_writer(rng)
    hooked = type(writer)(**{**writer.__dict__, "hooks": 1.0, "overshoot": 0.08, "retrace": 1.0})
    calm = type(writer)(**{**writer.__dict__, "hooks": 0.0, "overshoot": 0.0, "retrace": 0.0})
    strokes_hooked, _ = trace_number("7", hooked, np.random.default_rng(5))
    strokes_calm, _ = trace_number("7", calm, np.random.default_rng(5))
    assert len(strokes_hooked) == len(strokes_calm)
    length = lambda strokes: sum(np.linalg.norm(np.diff(s, axis=0), axis=1).sum() for s in strokes)  # noqa: E731
    assert length(strokes_hooked) > 1.2 * length(strokes_calm)


@pytest.mark.parametrize("seed", range(6))
def test_paper_keeps_the_ink_darker_than_the_sheet(seed):
    ink = np.zeros((40, 120), np.float32)
    ink[10:30, 20:24] = 1.0
    ink[10:30, 60:64] = 1.0
    image = put_on_paper(ink, np.random.default_rng(seed), PaperStyle(), bleed=ink)
    assert image.dtype == np.uint8 and image.ndim == 2
    assert image.shape[0] > ink.shape[0] and image.shape[1] > ink.shape[1], "the sheet has room around the number"
    flat = np.sort(image.ravel())
    assert flat[: flat.size // 50].mean() + 40 < np.median(flat), "the darkest pixels are well below the paper"


def test_paper_is_reproducible_by_seed():
    ink = np.zeros((30, 80), np.float32)
    ink[5:25, 30:34] = 1.0
    first = put_on_paper(ink, np.random.default_rng(9), PaperStyle())
    second = put_on_paper(ink, np.random.default_rng(9), PaperStyle())
    assert np.array_equal(first, second)
