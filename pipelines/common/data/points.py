"""The one decimal-point drawer (a tap, a blob, a small ring or a short tick, as a pen would leave
it), and the rasterizer of pen trajectories for the composer of real digits.

A point is a pen trajectory in digit-height units, y = 0 on the baseline and up negative (the
pen-strokes writer draws it with the rest of the number); :func:`rasterize_strokes` renders
trajectories (a point, or a mark of :func:`pipelines.common.data.pen.mark_strokes`) as an ink map.
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


def draw_point(height: float, pen: float, rng: np.random.Generator) -> np.ndarray:
    """An ink map (float32 in [0, 1], cropped to the ink) of a decimal point for digits ``height`` px tall."""
    stroke, width = point_stroke(pen, rng)
    return rasterize_strokes([stroke], width, height)[0]


def rasterize_strokes(strokes: list[np.ndarray], width: float, height: float) -> tuple[np.ndarray, float]:
    """Draw trajectories with a round pen ``width`` wide (digit heights) for digits ``height`` px tall.

    Returns the ink map (float32 in [0, 1]) cropped to the ink and the y of its top row in digit
    heights (negative above the baseline), for placing it on the writer's baseline.
    """
    scale = height * SUPERSAMPLE
    every = np.concatenate(strokes)
    low = every.min(axis=0) - width / 2
    size = np.ceil((every.max(axis=0) + width / 2 - low) * scale).astype(int) + 2 * SUPERSAMPLE
    canvas = np.zeros((int(size[1]), int(size[0])), np.uint8)
    pixels = [np.round((stroke - low) * scale + SUPERSAMPLE).astype(np.int32) for stroke in strokes]
    cv2.polylines(canvas, pixels, False, 255, max(1, round(width * scale)), cv2.LINE_AA)
    small = cv2.resize(canvas, (int(size[0]) // SUPERSAMPLE, int(size[1]) // SUPERSAMPLE), interpolation=cv2.INTER_AREA)
    ink = small.astype(np.float32) / 255.0
    rows = np.flatnonzero(ink.max(axis=1) > 0.1)
    cols = np.flatnonzero(ink.max(axis=0) > 0.1)
    if rows.size == 0:
        return np.ones((1, 1), np.float32), float(low[1])
    top = float(low[1]) + (rows[0] * SUPERSAMPLE - SUPERSAMPLE) / scale
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], top
