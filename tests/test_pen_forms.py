"""The pen writer over the whole alphabet: signs, commas, exponents (``e`` and raised), drawn by the
``strokes`` writer's templates and by real pendigits hands (``pen_real``).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from models.charset import CHARSET
from pipelines.common.data.pen import (
    DRAWN,
    RAISED,
    Glyphs,
    Writer,
    draw_number,
    mark_strokes,
    render,
    sample_writer,
    trace_number,
)
from pipelines.common.data.pendigits import RealHand, read_unipen, writers_of
from pipelines.common.data.points import point_stroke
from tests.drawing import write_pendigits

TEXTS = ["-12.5", "+3", "1,250.00", "12,50", "1.5e-3", "6.02×10^23", "10^-4"]
SEEDS = range(8)
SOURCES = ["strokes", "pen_real"]


@pytest.fixture(scope="module")
def real_writers(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three pendigits writers (the fixture's seven-segment digits), by name."""
    folder = write_pendigits(tmp_path_factory.mktemp("pendigits"), {"train": 3})
    return writers_of(read_unipen(folder / "pendigits-orig.tra.gz"))


def _hand(source: str, real_writers: dict, seed: int, writer: Writer) -> Glyphs | None:
    """The digits' glyphs: the templates for ``strokes``, one real writer for ``pen_real``."""
    if source == "strokes":
        return None
    names = sorted(real_writers)
    return RealHand(real_writers[names[seed % len(names)]], slant=0.0, aspect=float(np.sqrt(writer.aspect)))


def _level_writer(seed: int) -> tuple[Writer, np.random.Generator]:
    """A random writer whose baseline does not slope (the per-character wander stays)."""
    rng = np.random.default_rng(seed)
    return dataclasses.replace(sample_writer(rng), drift=0.0), rng


def _characters(
    text: str, source: str, real_writers: dict, seed: int
) -> tuple[list[list[np.ndarray]], list[list[float]]]:
    """Lay out ``text`` and split its strokes by character (``^`` has none).

    Laying out a prefix with the same seed draws the same strokes, so the stroke count of each
    prefix tells where each character's strokes end.
    """
    bounds = []
    for end in range(len(text) + 1):
        writer, rng = _level_writer(seed)
        strokes, widths = trace_number(text[:end], writer, rng, _hand(source, real_writers, seed, writer))
        bounds.append(len(strokes))
    pairs = list(itertools.pairwise(bounds))
    return [strokes[a:b] for a, b in pairs], [widths[a:b] for a, b in pairs]


def _bottom(strokes: list[np.ndarray], widths: list[float] | None = None) -> float:
    """The lowest ink (y grows downwards), on the centre line or, with ``widths``, at the pen's edge."""
    pens = widths or [0.0] * len(strokes)
    return max(float(s[:, 1].max()) + w / 2 for s, w in zip(strokes, pens, strict=True))


def _top(strokes: list[np.ndarray]) -> float:
    """The highest centre-line point."""
    return min(float(s[:, 1].min()) for s in strokes)


def test_the_pen_writes_every_character_of_the_alphabet() -> None:
    assert set(CHARSET) <= set(DRAWN)
    with pytest.raises(ValueError, match="cannot draw 'x'"):
        trace_number("1x2", sample_writer(np.random.default_rng(0)), np.random.default_rng(0))


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("text", TEXTS)
def test_every_form_is_drawn_with_ink(text: str, source: str, real_writers: dict) -> None:
    for seed in range(3):
        writer, rng = _level_writer(seed)
        hand = _hand(source, real_writers, seed, writer)
        strokes, widths = trace_number(text, writer, rng, hand)
        assert len(strokes) == len(widths) >= sum(c != RAISED for c in text)
        assert all(s.ndim == 2 and s.shape[1] == 2 and np.isfinite(s).all() for s in strokes)
        image = render(strokes, widths, rng, writer.pressure)
        assert image.dtype == np.uint8 and (image < 128).sum() > 20 * len(text)
        if hand is not None:
            assert len(hand.used) == sum(c.isdigit() for c in text), "every digit is a real one, marks are not"


@pytest.mark.parametrize("text", TEXTS)
def test_draw_number_writes_every_form(text: str) -> None:
    ink = draw_number(text, np.random.default_rng(7))
    assert ink.dtype == np.float32 and 40 <= ink.shape[0] <= 80
    assert (ink > 0.5).sum() > 20 * len(text)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("text", ["6.02×10^23", "10^-4"])
def test_a_raised_exponent_sits_higher_and_is_smaller(text: str, source: str, real_writers: dict) -> None:
    cut = text.index(RAISED)
    ratios = []
    for seed in SEEDS:
        chars, _ = _characters(text, source, real_writers, seed)
        base_digits = [strokes for c, strokes in zip(text[:cut], chars, strict=False) if c.isdigit()]
        raised_digits = [strokes for c, strokes in zip(text[cut:], chars[cut:], strict=True) if c.isdigit()]
        base = [s for strokes in base_digits for s in strokes]
        raised = [s for strokes in raised_digits for s in strokes]
        base_height = float(np.mean([_bottom(d) - _top(d) for d in base_digits]))
        raised_height = float(np.mean([_bottom(d) - _top(d) for d in raised_digits]))
        assert _bottom(base) - _bottom(raised) > 0.3, f"seed {seed}: the exponent's bottom is not raised clearly"
        ratios.append(raised_height / base_height)
        assert _top(raised) < _top(base) + 0.25 * base_height, f"seed {seed}: the exponent is not in the upper part"
    assert max(ratios) < 0.92 and np.mean(ratios) < 0.78, f"the exponent is not smaller than the digits: {ratios}"


@pytest.mark.parametrize("source", SOURCES)
def test_the_part_before_a_raised_exponent_is_drawn_as_without_it(source: str, real_writers: dict) -> None:
    writer, rng = _level_writer(3)
    whole, _ = trace_number("6.02×10^23", writer, rng, _hand(source, real_writers, 3, writer))
    writer, rng = _level_writer(3)
    mantissa, _ = trace_number("6.02×10", writer, rng, _hand(source, real_writers, 3, writer))
    assert all(np.array_equal(a, b) for a, b in zip(mantissa, whole, strict=False))
    assert len(whole) > len(mantissa)


@pytest.mark.parametrize("source", SOURCES)
def test_a_comma_reaches_lower_than_a_point(source: str, real_writers: dict) -> None:
    text = "1,250.00"
    for seed in SEEDS:
        chars, _ = _characters(text, source, real_writers, seed)
        comma, point = chars[text.index(",")], chars[text.index(".")]
        assert _bottom(comma) > _bottom(point) + 0.08, f"seed {seed}: the comma has no tail below the point"
    for seed in range(40):
        rng = np.random.default_rng(seed)
        writer = sample_writer(rng)
        assert _bottom(mark_strokes(",", writer, rng)) > 0.08, "a comma's tail hangs below the baseline"
        assert _bottom([point_stroke(writer.pen, rng)[0]]) < 0.05, "a point sits on the baseline"


@pytest.mark.parametrize("source", SOURCES)
def test_a_minus_is_a_short_level_stroke_at_mid_height(source: str, real_writers: dict) -> None:
    text = "-12.5"
    for seed in SEEDS:
        chars, widths = _characters(text, source, real_writers, seed)
        minus, one = chars[0], chars[1]
        assert len(minus) == 1
        low, high = _bottom(one), _top(one)
        middle = float(minus[0][:, 1].mean())
        assert high + 0.3 * (low - high) < middle < low - 0.3 * (low - high), f"seed {seed}: minus not at mid height"
        wide, tall = np.ptp(minus[0], axis=0)
        assert wide > 2.5 * tall and wide < 0.8 * (low - high), f"seed {seed}: minus is not a short level stroke"
        closest = min(float(np.linalg.norm(minus[0][:, None] - s[None], axis=2).min()) for s in one)
        assert closest > (widths[0][0] + max(widths[1])) / 2, f"seed {seed}: the minus runs into the 1"


# mark -> (highest and lowest centre, in digit heights above the baseline; most height; least width / height)
MARK_SHAPES = {
    "-": ((0.35, 0.65), 0.15, 2.5),
    "+": ((0.3, 0.6), 0.6, 0.5),
    "×": ((0.3, 0.6), 0.5, 0.5),
    "e": ((0.15, 0.4), 0.7, 0.4),
    ",": ((-0.2, 0.05), 0.45, 0.0),
}


@pytest.mark.parametrize("mark", sorted(MARK_SHAPES))
def test_each_mark_has_its_size_and_height(mark: str) -> None:
    (lowest, highest), most_height, least_ratio = MARK_SHAPES[mark]
    for seed in range(40):
        rng = np.random.default_rng(seed)
        writer = sample_writer(rng)
        strokes = mark_strokes(mark, writer, rng)
        ink = np.vstack(strokes)
        centre = -float((ink[:, 1].max() + ink[:, 1].min()) / 2)
        width, height = np.ptp(ink, axis=0)
        assert lowest < centre < highest, f"{mark} seed {seed}: centre {centre:.2f} above the baseline"
        assert height < most_height and width >= least_ratio * height, f"{mark} seed {seed}: {width:.2f}x{height:.2f}"
    assert len(mark_strokes("+", writer, rng)) == len(mark_strokes("×", writer, rng)) == 2


def test_the_e_stays_below_the_top_of_the_digits() -> None:
    for seed in SEEDS:
        chars, _ = _characters("5e3", "strokes", {}, seed)
        assert _top(chars[1]) > _top(chars[0]) + 0.25, f"seed {seed}: the e is as tall as a digit"
