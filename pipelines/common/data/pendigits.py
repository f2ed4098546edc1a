"""Real pen trajectories of single digits: the UCI "pendigits" set in its original UNIPEN form.

E. Alpaydin and F. Alimoglu, Bogazici University (1998); UCI Machine Learning Repository,
"Pen-Based Recognition of Handwritten Digits", DOI 10.24432/C5MG6K, CC BY 4.0. 44 writers
wrote 250 digits each with a stylus on a tablet, sampled at 10 Hz: ``pendigits-orig.tra.gz``
(30 writers) and ``pendigits-orig.tes.gz`` (14 other writers, kept for testing only).

:func:`read_unipen` parses one file into :class:`PenDigit` records whose strokes are already in
the pen writer's units (:mod:`pipelines.common.data.pen`): one digit height tall, y = 0 on the
baseline and up negative (the tablet's y grows upwards, so it is flipped), the leftmost ink at
x = 0. :func:`writer_split` groups them by writer and holds some training writers out for
validation, so that every split measures writers its training never saw.
"""

from __future__ import annotations

import gzip
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.common.data.pen import Writer, trace_trajectory

log = logging.getLogger(__name__)

PENDIGITS_FILES = {"train": "pendigits-orig.tra.gz", "test": "pendigits-orig.tes.gz"}


class PenDigitsError(ValueError):
    """A pendigits file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class PenDigit:
    """One real digit: its label, its writer (``"tra-12"``), its index and its strokes (digit-height units)."""

    label: int
    writer: str
    index: int
    strokes: tuple[np.ndarray, ...]


def read_unipen(path: str | Path) -> list[PenDigit]:
    """Parse a gzipped (or plain) UNIPEN pendigits file into normalized digits, in file order.

    Raises PenDigitsError naming the file and line when a segment has no label, a stroke no points,
    or a coordinate is not a number.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    tag = "tes" if ".tes" in path.name else "tra"
    digits: list[PenDigit] = []
    label: int | None = None
    writer = index = ""
    strokes: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] | None = None
    line_number = 0

    def finish(line_number: int) -> None:
        if label is None:
            return
        if not strokes:
            raise PenDigitsError(f"{path}:{line_number}: digit {writer}/{index} has no stroke")
        digits.append(PenDigit(label, f"{tag}-{writer}", int(index), _normalize(strokes)))

    with opener(path, "rt", encoding="ascii") as handle:
        for line_number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if line.startswith(".SEGMENT"):
                finish(line_number)
                label, strokes, current = _segment_label(line, path, line_number), [], None
            elif line.startswith(".COMMENT") and label is not None:
                parts = line.split()
                if len(parts) < 4:
                    raise PenDigitsError(f"{path}:{line_number}: expected '.COMMENT label writer index'")
                writer, index = parts[2], parts[3]
            elif line.startswith(".PEN_DOWN"):
                current = []
            elif line.startswith(".PEN_UP"):
                if not current:
                    raise PenDigitsError(f"{path}:{line_number}: a stroke with no points")
                strokes.append(current)
                current = None
            elif current is not None and line:
                try:
                    x, y = (float(v) for v in line.split())
                except ValueError as error:
                    raise PenDigitsError(f"{path}:{line_number}: expected 'x y', got {line!r}") from error
                current.append((x, y))
        finish(line_number)
    if not digits:
        raise PenDigitsError(f"{path}: no digit segments found")
    return digits


def _segment_label(line: str, path: Path, line_number: int) -> int:
    """The digit a ``.SEGMENT DIGIT ... "8"`` line announces."""
    quoted = line.split('"')
    if len(quoted) < 3 or not quoted[1].isdigit() or len(quoted[1]) != 1:
        raise PenDigitsError(f'{path}:{line_number}: expected a segment label like "7", got {line!r}')
    return int(quoted[1])


def _normalize(strokes: list[list[tuple[float, float]]]) -> tuple[np.ndarray, ...]:
    """Flip y (tablet y grows upwards), scale to one digit height, baseline at 0, leftmost ink at x = 0.

    Repeated points (the pen resting) are dropped; a one-point stroke (a tap) stays one point.
    """
    arrays = [np.array(stroke, dtype=np.float64) * [1.0, -1.0] for stroke in strokes]
    every = np.vstack(arrays)
    low, high = every.min(axis=0), every.max(axis=0)
    height = max(high[1] - low[1], 0.25 * (high[0] - low[0]), 1.0)  # a flat stroke: do not blow it up
    normalized = []
    for stroke in arrays:
        keep = np.concatenate([[True], np.any(np.diff(stroke, axis=0) != 0, axis=1)])
        normalized.append((stroke[keep] - [low[0], high[1]]) / height)
    return tuple(normalized)


def load_pendigits(directory: str | Path, part: str) -> list[PenDigit] | None:
    """The ``part`` (``train`` or ``test``) file of ``directory``, or None with one warning when it is missing."""
    path = Path(directory) / PENDIGITS_FILES[part]
    if not path.is_file():
        log.warning("pendigits: %s not found: real pen trajectories left out", path)
        return None
    digits = read_unipen(path)
    log.info("pendigits: %d %s digits by %d writers from %s", len(digits), part, len(writers_of(digits)), path)
    return digits


def writers_of(digits: list[PenDigit]) -> dict[str, dict[int, list[PenDigit]]]:
    """Group digits by writer, then by label."""
    grouped: dict[str, dict[int, list[PenDigit]]] = defaultdict(lambda: defaultdict(list))
    for digit in digits:
        grouped[digit.writer][digit.label].append(digit)
    return {writer: dict(by_label) for writer, by_label in sorted(grouped.items())}


def writer_split(
    train_digits: list[PenDigit], val_writers: int, seed: int
) -> tuple[dict[str, dict[int, list[PenDigit]]], dict[str, dict[int, list[PenDigit]]]]:
    """Split the training file's writers into train and val writers (``val_writers`` of them, chosen by ``seed``)."""
    writers = writers_of(train_digits)
    names = sorted(writers)
    if not 0 < val_writers < len(names):
        raise ValueError(f"val_writers must be between 1 and {len(names) - 1}, got {val_writers}")
    held_out = set(np.random.default_rng(seed).permutation(names)[:val_writers].tolist())
    train = {name: writers[name] for name in names if name not in held_out}
    val = {name: writers[name] for name in names if name in held_out}
    return train, val


class RealHand:
    """One real writer's digits as the pen writer's glyphs (:data:`pipelines.common.data.pen.Glyphs`).

    Each digit of a number is one of this writer's real trajectories of that digit, varied a
    little as a hand varies it (size, width, a degree or two of rotation, the number's slant),
    traced as a smooth curve through the sparse tablet points and sampled as a pointer reports
    it. ``used`` names the real digits drawn (``"tra-12:224"``), in order.
    """

    def __init__(self, by_label: dict[int, list[PenDigit]], slant: float, aspect: float) -> None:
        self.by_label = by_label
        self.slant = slant
        self.aspect = aspect
        self.used: list[str] = []

    def __call__(self, char: str, writer: Writer, rng: np.random.Generator) -> list[np.ndarray]:
        """Trajectories of the digit ``char`` in digit-height units (baseline at y = 0, up negative)."""
        samples = self.by_label.get(int(char))
        if not samples:
            raise ValueError(f"pendigits writer has no digit {char}")
        digit = samples[int(rng.integers(len(samples)))]
        self.used.append(f"{digit.writer}:{digit.index}")
        size = rng.normal(1.0, writer.size_wander)
        angle = np.deg2rad(rng.normal(0.0, 2.0))
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        width = self.aspect * float(np.exp(rng.normal(0.0, 0.05)))
        traced = []
        for stroke in digit.strokes:
            points = (stroke - [0.0, -0.5]) @ rotation.T + [0.0, -0.5]
            points = points * [width * size, size]
            points[:, 0] -= self.slant * points[:, 1]
            traced.append(trace_trajectory(points, writer, rng))
        return traced
