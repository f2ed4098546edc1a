"""The one decimal-point drawer (a tap, a blob, a small ring or a short tick, as a pen would leave
it) and the marks people write beside amounts that are not part of the number: a thousands comma
and a trailing dash.

Each mark is a pen trajectory in digit-height units, y = 0 on the baseline and up negative (the
pen-strokes writer draws it with the rest of the number); :func:`rasterize` renders one as an
ink map for the composer of real digits.
"""

from __future__ import annotations

import cv2
import numpy as np

SUPERSAMPLE = 4


def point_stroke(pen: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A decimal point as a tiny stroke near the baseline (y = 0, up is negative) and its pen width.

    ``pen`` is the writer's pen width in digit heights; taps and blobs are wider than the pen.
    """
    kind = rng.choice(["tap", "blob", "ring", "tick"], p=[0.5, 0.25, 0.1, 0.15])
    lift = rng.uniform(-0.03, 0.08)
    if kind == "ring":
        r = rng.uniform(0.03, 0.06)
        t = np.linspace(0.0, 2.2 * np.pi, 14)
        return np.stack([r * np.cos(t), -lift - r + r * np.sin(t)], axis=1), pen * 0.8
    if kind == "tick":
        length = rng.uniform(0.03, 0.07)
        return np.array([[0.0, -lift - length], [length * 0.4, -lift]]), pen
    wobble = rng.uniform(0.0, 0.02)
    points = np.array([[0.0, -lift], [wobble, -lift + rng.normal(0.0, 0.01)]])
    scale = rng.uniform(1.0, 1.5) if kind == "tap" else rng.uniform(1.5, 2.6)
    return points, pen * scale


def comma_stroke(pen: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A thousands comma: a dot or short stroke on the baseline with a tail below it, and its pen width."""
    lift = rng.uniform(-0.02, 0.06)
    tail = rng.uniform(0.12, 0.3)
    lean = rng.uniform(-0.12, 0.0)
    points = np.array([[0.0, -lift], [0.01, -lift + 0.4 * tail], [lean, -lift + tail]])
    return points, pen * rng.uniform(0.9, 1.4)


def dash_stroke(pen: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A trailing dash at about half the digit height (``125,-``), and its pen width."""
    length = rng.uniform(0.25, 0.7)
    y = -rng.uniform(0.3, 0.6)
    return np.array([[0.0, y], [length, y + rng.normal(0.0, 0.04)]]), pen * rng.uniform(0.8, 1.2)


MARK_STROKES = {",": comma_stroke, "-": dash_stroke}


def draw_point(height: float, pen: float, rng: np.random.Generator) -> np.ndarray:
    """An ink map (float32 in [0, 1], cropped to the ink) of a decimal point for digits ``height`` px tall."""
    return rasterize(*point_stroke(pen, rng), height)


def rasterize(stroke: np.ndarray, width: float, height: float) -> np.ndarray:
    """Draw a mark's trajectory with a round pen ``width`` wide for digits ``height`` px tall; an ink
    map (float32 in [0, 1]) cropped to the ink.
    """
    scale = height * SUPERSAMPLE
    low = stroke.min(axis=0) - width / 2
    extent = stroke.max(axis=0) + width / 2 - low
    size = np.ceil(extent * scale).astype(int) + 2 * SUPERSAMPLE
    canvas = np.zeros((int(size[1]), int(size[0])), np.uint8)
    pixels = np.round((stroke - low) * scale + SUPERSAMPLE).astype(np.int32)
    cv2.polylines(canvas, [pixels], False, 255, max(1, round(width * scale)), cv2.LINE_AA)
    small = cv2.resize(canvas, (int(size[0]) // SUPERSAMPLE, int(size[1]) // SUPERSAMPLE), interpolation=cv2.INTER_AREA)
    ink = small.astype(np.float32) / 255.0
    rows = np.flatnonzero(ink.max(axis=1) > 0.1)
    cols = np.flatnonzero(ink.max(axis=0) > 0.1)
    if rows.size == 0:
        return np.ones((1, 1), np.float32)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
