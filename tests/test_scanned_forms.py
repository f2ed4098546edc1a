"""The wider alphabet on scanned and typeset numbers: marks and raised exponents drawn where handwriting
puts them (composition from real digits, handwriting fonts), and paper amounts labelled as drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage

from models.number_value import parse_value
from pipelines import synthetic_fonts
from pipelines.common.data.composition import ComposeStyle, DigitSource, compose_number
from pipelines.common.data.digit_pools import DigitPool, load_mnist, load_sklearn_digits
from pipelines.common.data.number_text import as_written, sample_number

TEXTS = ["-12.5", "+3", "1,250.00", "12,50", "1.5e-3", "6.02×10^23", "10^-4"]
FONTS_DIR = Path(__file__).resolve().parents[1] / "node_modules" / "@fontsource"
HEIGHT = 40
STILL = ComposeStyle(  # an upright, steady writer with clear gaps, so every piece is its own blob
    digit_height=(HEIGHT, HEIGHT),
    slant=(0.0, 0.0),
    slant_jitter=0.0,
    rotation_deg=0.0,
    scale_jitter=0.0,
    baseline_jitter=0.0,
    spacing=(0.35, 0.45),
    spacing_jitter=0.0,
    touch_fraction=0.0,
)


@pytest.fixture(scope="module")
def real_digits() -> DigitSource:
    """MNIST and scikit-learn's digits, as the stages compose from them."""
    return DigitSource([load_mnist(), load_sklearn_digits()], [3.0, 1.0])


@pytest.fixture(scope="module")
def bars() -> DigitSource:
    """Every digit a plain upright bar: each is one tall thin blob whose box is the digit's box."""
    bar = np.zeros((28, 5), np.uint8)
    bar[:, 1:4] = 255
    pool = DigitPool("bars", [bar] * 10, np.arange(10), [f"bars:{d}" for d in range(10)])
    return DigitSource([pool], [1.0])


def blobs(ink: np.ndarray) -> list[tuple[slice, slice]]:
    """The boxes of the ink's connected blobs, left to right."""
    labels, _ = scipy.ndimage.label(ink > 0.5)
    return sorted(scipy.ndimage.find_objects(labels), key=lambda box: box[1].start)


def is_bar(box: tuple[slice, slice]) -> bool:
    """Whether a blob is one of the bar digits (tall and thin), not a mark."""
    return box[0].stop - box[0].start > 2.5 * (box[1].stop - box[1].start)


# ---------------------------------------------------------------- composition from real digits


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("pen", [None, 0.1])
def test_composition_draws_every_text_with_real_digits_and_inked_marks(
    real_digits: DigitSource, text: str, pen: float | None
) -> None:
    digits = sum(char.isdigit() for char in text)
    for seed in range(4):
        ink, ids = compose_number(text, real_digits, ComposeStyle(), np.random.default_rng(seed), pen)
        assert len(ids) == digits
        assert ink.max() > 0.9
        marks = [char for char in text if char in ",-+e×."]
        assert len(blobs(ink)) >= min(digits + len(marks), 3)  # marks are ink apart from the digits


@pytest.mark.parametrize(("text", "main"), [("10^23", 2), ("6.02×10^23", 5), ("10^-4", 2), ("1.6×10^-19", 4)])
def test_composed_raised_exponent_is_smaller_and_above_the_main_digits(bars: DigitSource, text: str, main: int) -> None:
    for seed in range(6):
        ink, _ = compose_number(text, bars, STILL, np.random.default_rng(seed))
        digits = [box for box in blobs(ink) if is_bar(box)]
        assert len(digits) == sum(char.isdigit() for char in text)
        height = np.median([box[0].stop - box[0].start for box in digits[:main]])
        bottom = min(box[0].stop for box in digits[:main])
        for box in digits[main:]:
            assert box[0].stop - box[0].start < 0.8 * height
            assert box[0].stop < bottom - 0.4 * height  # its bottom at the main digits' middle or higher


def test_a_comma_dips_below_the_baseline_and_reaches_lower_than_a_point(bars: DigitSource) -> None:
    for seed in range(8):
        reach = {}
        for mark in ",.":
            ink, _ = compose_number(f"11{mark}11", bars, STILL, np.random.default_rng(seed))
            pieces = blobs(ink)
            bottom = max(box[0].stop for box in pieces if is_bar(box))
            (drawn,) = [box for box in pieces if not is_bar(box)]
            reach[mark] = drawn[0].stop - bottom
        assert reach[","] > 0.08 * HEIGHT
        assert reach[","] > reach["."]


MIDDLES = [("-", 0.3, 0.65), ("+", 0.3, 0.65), ("×", 0.3, 0.65), ("e", 0.2, 0.4)]


@pytest.mark.parametrize(("mark", "low", "high"), MIDDLES)
def test_signs_sit_at_mid_height_and_e_at_x_height(bars: DigitSource, mark: str, low: float, high: float) -> None:
    """The middle of the mark's ink, in digit heights above the baseline."""
    for seed in range(8):
        ink, _ = compose_number(f"1{mark}1", bars, STILL, np.random.default_rng(seed))
        pieces = blobs(ink)
        digits = [box for box in pieces if is_bar(box)]
        baseline = np.median([box[0].stop for box in digits])
        height = np.median([box[0].stop - box[0].start for box in digits])
        (drawn,) = [box for box in pieces if not is_bar(box)]
        middle = (baseline - (drawn[0].start + drawn[0].stop) / 2) / height
        assert low < middle < high
        if mark == "e":
            assert 0.35 * height < drawn[0].stop - drawn[0].start < 0.8 * height
            assert abs(drawn[0].stop - baseline) < 0.15 * height  # on the baseline, as a pen leaves it


# ---------------------------------------------------------------- handwriting fonts


@pytest.fixture(scope="module")
def fonts() -> list[Path]:
    found = synthetic_fonts.find_fonts(FONTS_DIR)
    if not found:
        pytest.fail(f"no fonts under {FONTS_DIR}: run `npm ci --no-audit --no-fund` at the repository root")
    return found


def band(mask: np.ndarray, start: float, stop: float) -> tuple[int, int]:
    """The top and bottom ink rows in the columns from ``start`` to ``stop`` (fractions of the ink's width)."""
    cols = np.flatnonzero(mask.any(axis=0))
    left, width = cols[0], cols[-1] + 1 - cols[0]
    rows = np.flatnonzero(mask[:, left + int(start * width) : left + int(np.ceil(stop * width))].any(axis=1))
    return int(rows[0]), int(rows[-1]) + 1


@pytest.mark.parametrize("text", TEXTS)
def test_fonts_draw_every_text_with_ink(fonts: list[Path], text: str) -> None:
    for index, font in enumerate(fonts):
        image = synthetic_fonts.render_number(text, str(font), np.random.default_rng(index))
        assert image.dtype == np.uint8 and image.min() < 80 and image.max() > 200, font.name


def test_a_font_lacking_times_draws_its_x_instead(fonts: list[Path]) -> None:
    lacking = [font for font in fonts if not synthetic_fonts.has_glyph(str(font), "×")]
    having = [font for font in fonts if synthetic_fonts.has_glyph(str(font), "×")]
    assert having, "most handwriting fonts have a ×"
    for font in lacking:
        glyph, _, shift = synthetic_fonts.glyph_for(str(font), "×", 60)
        assert glyph == "x" and shift < 0  # lifted to the digits' middle
    for font in having:
        assert synthetic_fonts.glyph_for(str(font), "×", 60)[0] == "×"


@pytest.mark.parametrize("text", ["10^20", "6.02×10^20", "1.6×10^-10"])  # the last digit 0: one that no font descends
def test_fonts_raise_the_exponent_smaller_and_above_the_main_digits(fonts: list[Path], text: str) -> None:
    for index, font in enumerate(fonts[::3]):
        mask = synthetic_fonts.render_number(text, str(font), np.random.default_rng(index)) < 128
        main_top, main_bottom = band(mask, 0.0, 0.3)[0], band(mask, 0.0, 1.0)[1]  # the first digits
        raised_top, raised_bottom = band(mask, 0.9, 1.0)  # the last, raised
        height = main_bottom - main_top
        assert raised_bottom - raised_top < 0.85 * height, font.name
        assert raised_bottom < main_bottom - 0.3 * height, font.name


def test_digit_only_font_texts_have_no_raised_part(fonts: list[Path]) -> None:
    """The same measure fails without ``^``: the test above can fail."""
    mask = synthetic_fonts.render_number("1020", str(fonts[0]), np.random.default_rng(0)) < 128
    main_top, main_bottom = band(mask, 0.0, 0.3)[0], band(mask, 0.0, 1.0)[1]
    _, last_bottom = band(mask, 0.9, 1.0)
    assert last_bottom > main_bottom - 0.3 * (main_bottom - main_top)


# ---------------------------------------------------------------- paper amounts


def test_paper_amounts_are_labelled_with_the_marks_they_show_and_keep_their_value() -> None:
    seen = {"comma": False, ",-": False, ".-": False}
    for seed in range(400):
        number = sample_number(np.random.default_rng([seed, 0]), 1, 9, 0.3)
        written = as_written(number, np.random.default_rng([seed, 1]), comma_fraction=0.5, dash_fraction=0.4)
        parsed = parse_value(written, "auto")
        assert parsed.error is None and parsed.value == parse_value(number).value, written
        assert written.replace(",", "").replace(".-", "").replace("-", "") == number
        if "," in written.rstrip(",-"):
            whole = written.split(".")[0].rstrip(",-")
            groups = whole.split(",")
            assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
        seen["comma"] |= "," in written.rstrip(",-")
        seen[",-"] |= written.endswith(",-")
        seen[".-"] |= written.endswith(".-")
        assert not (written.endswith("-") and "." in number)  # only integers are dashed out
    assert all(seen.values()), seen
