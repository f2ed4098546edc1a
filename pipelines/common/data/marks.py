"""The marks of the wider alphabet as a pen writes them beside real digits: ``,`` ``-`` ``+`` ``e`` ``×``.

Each mark is a list of pen trajectories (polylines) in digit-height units, x to the right, y = 0
on the baseline and up negative, with 2-4 shape variants and random jitter, sized and placed as
handwriting puts them: ``,`` a short tail dipping below the baseline, ``-`` a short bar at about
mid height, ``+`` a cross of a vertical and a horizontal bar, ``e`` a lower-case e at x-height, ``×``
a small diagonal cross at mid height. :func:`rasterize_strokes` renders one as an ink map with a
round pen; the composer of real digits puts it in the digits' layer, so it gets their ink thickness
and blur.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

SUPERSAMPLE = 4
JITTER = 0.008
"""The standard deviation of the pen's wobble at every trajectory point, in digit heights."""
MAX_PEN = 0.13
"""The widest pen a mark is drawn with, in digit heights: wider ones fill an ``e``'s eye and blot a ``×``."""

Strokes = list[np.ndarray]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 16) -> np.ndarray:
    """Points on an ellipse from angle ``start`` to ``end`` (radians, counter-clockwise as seen, y up negative)."""
    t = np.linspace(start, end, n)
    return np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], axis=1)


def comma_strokes(rng: np.random.Generator) -> Strokes:
    """A comma: a short tail from about the baseline dipping 0.15-0.3 digit heights below it, leaning left."""
    kind = rng.integers(3)
    lift = rng.uniform(-0.02, 0.06)
    tail = rng.uniform(0.15, 0.3)
    lean = rng.uniform(-0.12, -0.02)
    if kind == 0:  # a straight tick
        return [np.array([[0.0, -lift], [lean, -lift + tail]])]
    if kind == 1:  # a dot pressed, then the tail
        return [np.array([[0.0, -lift], [0.01, -lift + 0.4 * tail], [lean, -lift + tail]])]
    bulge = rng.uniform(0.02, 0.05)  # a curved tail, bending right first
    points = [[0.0, -lift - 0.02], [bulge, -lift + 0.3 * tail], [0.6 * bulge, -lift + 0.7 * tail], [lean, -lift + tail]]
    return [np.array(points)]


def minus_strokes(rng: np.random.Generator) -> Strokes:
    """A minus sign (or a trailing dash): a short bar at 0.35-0.55 digit heights above the baseline."""
    kind = rng.integers(3)
    length = rng.uniform(0.3, 0.55)
    y = -rng.uniform(0.35, 0.55)
    end = y + rng.normal(0.0, 0.03)
    if kind == 0:  # straight
        return [np.array([[0.0, y], [length, end]])]
    if kind == 1:  # rising a little
        return [np.array([[0.0, y], [length, end - rng.uniform(0.02, 0.07)]])]
    hook = rng.uniform(0.02, 0.05)  # the pen lands with a small hook
    return [np.array([[0.0, y + hook], [0.04, y], [length, end]])]


def plus_strokes(rng: np.random.Generator) -> Strokes:
    """A plus sign: a horizontal and a vertical bar, 0.36-0.56 digit heights long, crossing at 0.35-0.55."""
    kind = rng.integers(3)
    arm = rng.uniform(0.18, 0.28)
    cx, cy = arm, -rng.uniform(0.35, 0.55)
    tilt = rng.normal(0.0, 0.03)
    horizontal = np.array([[cx - arm, cy + tilt], [cx + arm, cy - tilt]])
    if kind == 0:  # upright
        vertical = np.array([[cx, cy - arm], [cx, cy + arm]])
    elif kind == 1:  # the vertical bar leaning
        lean = rng.uniform(0.05, 0.2) * arm
        vertical = np.array([[cx + lean, cy - arm], [cx - lean, cy + arm]])
    else:  # a short vertical bar, a little off the centre
        short = arm * rng.uniform(0.7, 0.9)
        shift = rng.normal(0.0, 0.08) * arm
        vertical = np.array([[cx + shift, cy - short], [cx + shift, cy + short]])
    return [horizontal, vertical] if rng.random() < 0.6 else [vertical, horizontal]


def times_strokes(rng: np.random.Generator) -> Strokes:
    """A multiplication cross: two diagonals 0.3-0.48 digit heights tall, crossing at 0.35-0.5."""
    kind = rng.integers(3)
    half = rng.uniform(0.15, 0.24)
    cx, cy = half, -rng.uniform(0.35, 0.5)
    if kind == 0:  # two straight diagonals
        return [
            np.array([[cx - half, cy - half], [cx + half, cy + half]]),
            np.array([[cx + half, cy - half], [cx - half, cy + half]]),
        ]
    if kind == 1:  # written like a letter x: two arcs back to back, ")("
        bow = rng.uniform(0.3, 0.6) * half
        return [
            _arc(cx - half - bow, cy, half + bow, half, 1.1, -1.1, 10),
            _arc(cx + half + bow, cy, half + bow, half, np.pi - 1.1, np.pi + 1.1, 10),
        ]
    second = half * rng.uniform(0.7, 0.95)  # the second diagonal shorter
    return [
        np.array([[cx - half, cy - half], [cx + half, cy + half]]),
        np.array([[cx + second, cy - second], [cx - second, cy + second]]),
    ]


def e_strokes(rng: np.random.Generator) -> Strokes:
    """A lower-case ``e`` standing on the baseline, 0.5-0.65 digit heights tall (x-height)."""
    kind = rng.integers(3)
    xh = rng.uniform(0.5, 0.65)
    w = xh * rng.uniform(0.8, 1.0)
    rx, ry = w / 2, xh / 2
    if kind == 0:  # a bar, then round over the top and back along the bottom
        bar = np.array([[0.08 * w, -ry], [w, -ry]])
        return [np.concatenate([bar, _arc(rx, -ry, rx, ry, 0.15, 2 * np.pi - rng.uniform(0.9, 1.3))])]
    if kind == 1:  # cursive: an entry stroke rising from the baseline, then round over the top
        entry = np.array([[-0.1 * w, -0.05 * xh], [0.9 * w, -0.58 * xh]])
        return [np.concatenate([entry, _arc(rx, -ry, rx, ry, 0.3, 2 * np.pi - rng.uniform(0.9, 1.3))])]
    upper = _arc(rx, -0.72 * xh, 0.85 * rx, 0.28 * xh, 0.3 * np.pi, 1.5 * np.pi, 12)  # a Greek-like ε
    lower = _arc(rx, -0.28 * xh, rx, 0.28 * xh, 0.5 * np.pi, 1.75 * np.pi, 14)
    return [np.concatenate([upper, lower])]


MARKS: dict[str, Callable[[np.random.Generator], Strokes]] = {
    ",": comma_strokes,
    "-": minus_strokes,
    "+": plus_strokes,
    "×": times_strokes,
    "e": e_strokes,
}
"""The drawer of each mark the composer draws beside real digits (``.`` has its own: :mod:`points`)."""


def mark_strokes(char: str, rng: np.random.Generator, slant: float = 0.0, scale: float = 1.0) -> Strokes:
    """The trajectories of mark ``char``, jittered, slanted (``slant`` > 0 leans the top right) and scaled."""
    strokes = []
    for stroke in MARKS[char](rng):
        points = stroke + rng.normal(0.0, JITTER, size=stroke.shape)
        points = np.stack([points[:, 0] - slant * points[:, 1], points[:, 1]], axis=1)
        strokes.append(points * scale)
    return strokes


def rasterize_strokes(strokes: Strokes, width: float, height: float) -> tuple[np.ndarray, float]:
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
