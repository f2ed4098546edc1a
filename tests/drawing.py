"""Test fixtures drawn in code: numbers with pen-like straight strokes, and a fake USPS folder."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Seven-segment-like strokes per digit, in a 0..1 box (x, y) with y down.
SEGMENTS = {
    "a": ((0.1, 0.05), (0.9, 0.05)),
    "b": ((0.9, 0.05), (0.9, 0.5)),
    "c": ((0.9, 0.5), (0.9, 0.95)),
    "d": ((0.1, 0.95), (0.9, 0.95)),
    "e": ((0.1, 0.5), (0.1, 0.95)),
    "f": ((0.1, 0.05), (0.1, 0.5)),
    "g": ((0.1, 0.5), (0.9, 0.5)),
}
DIGIT_SEGMENTS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abged",
    "3": "abgcd",
    "4": "fgbc",
    "5": "afgcd",
    "6": "afgedc",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
}


def draw_number(text: str, height: int = 60, ink: int = 0, paper: int = 255, mode: str = "L") -> Image.Image:
    """Draw ``text`` with straight strokes (a stand-in for a pen), dark on light by default."""
    digit_w, gap = int(height * 0.5), int(height * 0.25)
    width = sum(digit_w if c != "." else gap for c in text) + gap * (len(text) + 1)
    image = Image.new(mode, (width, height + 2 * gap), paper if mode == "L" else (paper,) * len(mode))
    pen = ImageDraw.Draw(image)
    fill = ink if mode == "L" else (ink,) * len(mode)
    x = gap
    for char in text:
        if char == ".":
            pen.ellipse((x, gap + height - 6, x + 6, gap + height), fill=fill)
            x += gap * 2
            continue
        for segment in DIGIT_SEGMENTS[char]:
            (x0, y0), (x1, y1) = SEGMENTS[segment]
            pen.line(
                (x + x0 * digit_w, gap + y0 * height, x + x1 * digit_w, gap + y1 * height),
                fill=fill,
                width=max(2, height // 12),
            )
        x += digit_w + gap
    return image


def usps_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A 16x16 digit in USPS's encoding: values in [-1, 1], -1 background; strokes vary with ``rng``."""
    big = Image.new("L", (64, 64), 0)
    pen = ImageDraw.Draw(big)
    width = int(rng.integers(5, 10))
    jitter = rng.uniform(-4, 4, size=8)
    x0, x1, y0, y1 = 14 + jitter[0], 50 + jitter[1], 6 + jitter[2], 58 + jitter[4]
    for segment in DIGIT_SEGMENTS[str(digit)]:
        (sx0, sy0), (sx1, sy1) = SEGMENTS[segment]
        pen.line(
            (x0 + sx0 * (x1 - x0), y0 + sy0 * (y1 - y0), x0 + sx1 * (x1 - x0), y0 + sy1 * (y1 - y0)),
            fill=255,
            width=width,
        )
    ink = np.asarray(big.resize((16, 16), Image.Resampling.BOX), dtype=np.float32) / 255.0
    return np.round(ink * 2.0 - 1.0, 4)


def write_usps(folder: Path, per_class: dict[str, int], seed: int = 0) -> Path:
    """Write zip.train.gz / zip.test.gz with ``per_class[part]`` drawn digits of each class."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for part, count in per_class.items():
        lines = []
        for _ in range(count):
            for digit in range(10):
                values = usps_digit(digit, rng).ravel()
                lines.append(" ".join([f"{digit:.4f}", *(f"{v:.4f}" for v in values)]))
        with gzip.open(folder / f"zip.{part}.gz", "wt", encoding="ascii") as handle:
            handle.write("\n".join(lines) + "\n")
    return folder


def write_pendigits(folder: Path, writers: dict[str, int], per_digit: int = 2, seed: int = 0) -> Path:
    """Write UNIPEN ``pendigits-orig.tra.gz`` / ``.tes.gz`` with ``writers[part]`` writers, each writing
    every digit ``per_digit`` times as seven-segment strokes in tablet coordinates (0..500, y up).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = {"train": "pendigits-orig.tra.gz", "test": "pendigits-orig.tes.gz"}
    first_writer = 1
    for part, count in writers.items():
        lines = ['.LEXICON "0" "1" "2" "3" "4" "5" "6" "7" "8" "9"', ".HIERARCHY      DIGIT", ""]
        index = 0
        for writer in range(first_writer, first_writer + count):
            for _ in range(per_digit):
                for digit in range(10):
                    lines += [f'.SEGMENT DIGIT    {index} ? "{digit}"', f".COMMENT {digit} {writer}  {index}"]
                    left, bottom, size = rng.uniform(100, 200), rng.uniform(100, 200), rng.uniform(150, 250)
                    for segment in DIGIT_SEGMENTS[str(digit)]:
                        lines.append(".PEN_DOWN")
                        for t in np.linspace(0.0, 1.0, 5):
                            (x0, y0), (x1, y1) = SEGMENTS[segment]
                            x = left + size * 0.5 * (x0 + t * (x1 - x0))
                            y = bottom + size * (1.0 - (y0 + t * (y1 - y0)))  # tablet y grows upwards
                            lines.append(f" {round(x)} {round(y)}")
                        lines += [".PEN_UP", ".DT 100"]
                    lines.append("")
                    index += 1
        first_writer += count
        with gzip.open(folder / names[part], "wt", encoding="ascii") as handle:
            handle.write("\n".join(lines) + "\n")
    return folder
