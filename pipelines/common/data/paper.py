"""Paper as scanners and phones see it: a written number put on a form and captured.

:func:`put_on_paper` takes an ink map (float32, 1 = full ink, with some margin around the
number) and returns a grey uint8 image of it written on paper: ballpoint, felt pen or pencil
ink with uneven pressure; paper texture; printed ruled lines, an amount box (often cut by the
crop) or a grid; a faint stamp; bleed-through from the other side; then captured by a phone
(uneven light, a small tilt and perspective) or a scanner (blur, noise, JPEG, sometimes
binarized like a fax). These are what real scanned amounts and photographed notes add to the
strokes, and what the canvas-like sources never show.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter


@dataclass(frozen=True)
class PaperStyle:
    """How often each feature of paper and capture appears (shares of samples, 0..1)."""

    ruled_fraction: float = 0.3
    box_fraction: float = 0.35
    grid_fraction: float = 0.1
    stamp_fraction: float = 0.08
    bleed_fraction: float = 0.15
    pencil_fraction: float = 0.15
    photo_fraction: float = 0.4
    binarize_fraction: float = 0.12
    jpeg_fraction: float = 0.6


def put_on_paper(
    ink: np.ndarray, rng: np.random.Generator, style: PaperStyle, bleed: np.ndarray | None = None
) -> np.ndarray:
    """Write ``ink`` (float32 in [0, 1], 1 = ink) on a captured sheet; return grey uint8, dark ink on light paper.

    ``bleed`` is another ink map that may show through faintly from the back of the sheet.
    """
    ink, box = _pad(ink, rng)
    h, w = ink.shape
    darkness = _ink_darkness(ink, rng, style)
    paper = _paper(h, w, rng)
    printed = np.zeros((h, w), np.float32)
    if rng.random() < style.grid_fraction:
        _grid(printed, rng)
    if rng.random() < style.ruled_fraction:
        _ruled(printed, box, rng)
    if rng.random() < style.box_fraction:
        _amount_box(printed, box, rng)
    if rng.random() < style.stamp_fraction:
        _stamp(printed, rng)
    if bleed is not None and rng.random() < style.bleed_fraction:
        darkness = np.maximum(darkness, _bleed(bleed, (h, w), rng))
    image = paper * (1.0 - np.maximum(darkness, printed))
    if rng.random() < style.photo_fraction:
        image = _photo(image, rng)
    return _capture(image, rng, style)


def _pad(ink: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Give the number room for lines and boxes; return the padded map and the number's ink box
    (top, bottom, left, right).
    """
    rows = np.flatnonzero(ink.max(axis=1) > 0.2)
    cols = np.flatnonzero(ink.max(axis=0) > 0.2)
    top, bottom = (int(rows[0]), int(rows[-1])) if rows.size else (0, ink.shape[0] - 1)
    left, right = (int(cols[0]), int(cols[-1])) if cols.size else (0, ink.shape[1] - 1)
    height = bottom - top + 1
    pad_v = [int(rng.uniform(0.1, 0.5) * height) + 2 for _ in range(2)]
    pad_h = [int(rng.uniform(0.05, 0.5) * height) + 2 for _ in range(2)]
    padded = np.pad(ink, ((pad_v[0], pad_v[1]), (pad_h[0], pad_h[1])))
    return padded, (top + pad_v[0], bottom + pad_v[0], left + pad_h[0], right + pad_h[0])


def _ink_darkness(ink: np.ndarray, rng: np.random.Generator, style: PaperStyle) -> np.ndarray:
    """How much each pixel darkens the paper: ballpoint or felt pen, or grainy pencil; pressure varies slowly."""
    h, w = ink.shape
    pressure = gaussian_filter(rng.normal(0.0, 1.0, (h, w)).astype(np.float32), sigma=max(2.0, h / 6))
    pressure = 1.0 + 0.25 * pressure / (np.abs(pressure).max() + 1e-6)
    if rng.random() < style.pencil_fraction:
        grain = np.clip(rng.normal(1.0, 0.25, (h, w)), 0.3, 1.3).astype(np.float32)
        strength = rng.uniform(0.35, 0.65)
        return np.clip(ink * strength * pressure * grain, 0.0, 1.0)
    strength = rng.uniform(0.6, 0.95)
    return np.clip(ink * strength * pressure, 0.0, 1.0)


def _paper(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """The sheet's brightness: a tone, fibres and blotches (1 = white)."""
    tone = rng.uniform(0.8, 1.0)
    fibres = gaussian_filter(rng.normal(0.0, 1.0, (h, w)).astype(np.float32), sigma=rng.uniform(0.5, 1.5))
    blotches = gaussian_filter(rng.normal(0.0, 1.0, (h, w)).astype(np.float32), sigma=max(3.0, h / 4))
    texture = rng.uniform(0.0, 0.04) * fibres / (fibres.std() + 1e-6)
    texture += rng.uniform(0.0, 0.05) * blotches / (blotches.std() + 1e-6)
    return np.clip(tone + texture, 0.5, 1.0).astype(np.float32)


def _line(printed: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], width: int, darkness: float) -> None:
    """Draw a printed line (x, y) to (x, y) into ``printed`` (darkness in [0, 1])."""
    canvas = np.zeros(printed.shape, np.uint8)
    a = (round(p0[0] * 16), round(p0[1] * 16))
    b = (round(p1[0] * 16), round(p1[1] * 16))
    cv2.line(canvas, a, b, 255, max(1, width), cv2.LINE_AA, 4)
    np.maximum(printed, canvas.astype(np.float32) / 255.0 * darkness, out=printed)


def _grid(printed: np.ndarray, rng: np.random.Generator) -> None:
    """Squared paper: light lines every few millimetres."""
    h, w = printed.shape
    step = rng.uniform(0.25, 0.6) * h
    darkness = rng.uniform(0.12, 0.35)
    x0, y0 = rng.uniform(0, step, 2)
    for x in np.arange(x0, w, step):
        _line(printed, (x, 0), (x, h), 1, darkness)
    for y in np.arange(y0, h, step):
        _line(printed, (0, y), (w, y), 1, darkness)


def _ruled(printed: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator) -> None:
    """A ruled or dotted line near the baseline (sometimes through the bottom of the digits)."""
    w = printed.shape[1]
    top, bottom, _, _ = box
    y = bottom + rng.uniform(-0.15, 0.25) * (bottom - top)
    tilt = rng.uniform(-0.02, 0.02) * w
    darkness = rng.uniform(0.25, 0.8)
    if rng.random() < 0.25:
        for x in np.arange(0, w, rng.uniform(3, 7)):
            _line(printed, (x, y + tilt * x / w), (x + 1.5, y + tilt * x / w), 1, darkness)
    else:
        _line(printed, (0, y), (w, y + tilt), int(rng.integers(1, 3)), darkness)


def _amount_box(printed: np.ndarray, box: tuple[int, int, int, int], rng: np.random.Generator) -> None:
    """A printed box around the amount, as on a cheque or form; the crop often cuts some of its sides."""
    top, bottom, left, right = box
    height = bottom - top
    y0 = top - rng.uniform(0.1, 0.45) * height
    y1 = bottom + rng.uniform(0.1, 0.45) * height
    x0 = left - rng.uniform(0.1, 0.8) * height
    x1 = right + rng.uniform(0.1, 0.8) * height
    width = int(rng.integers(1, 4))
    darkness = rng.uniform(0.3, 0.85)
    sides = [
        ((x0, y0), (x1, y0)),
        ((x0, y1), (x1, y1)),
        ((x0, y0), (x0, y1)),
        ((x1, y0), (x1, y1)),
    ]
    for index, (a, b) in enumerate(sides):
        if index < 2 or rng.random() < 0.7:
            _line(printed, a, b, width, darkness)


def _stamp(printed: np.ndarray, rng: np.random.Generator) -> None:
    """A faint round stamp overlapping part of the number."""
    h, w = printed.shape
    canvas = np.zeros((h, w), np.uint8)
    centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
    radius = int(rng.uniform(0.4, 1.2) * h)
    cv2.circle(canvas, centre, radius, 255, int(rng.integers(1, 4)), cv2.LINE_AA)
    cv2.circle(canvas, centre, int(radius * rng.uniform(0.6, 0.85)), 255, 1, cv2.LINE_AA)
    np.maximum(printed, canvas.astype(np.float32) / 255.0 * rng.uniform(0.1, 0.3), out=printed)


def _bleed(other: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Another number showing through the paper: mirrored, blurred and faint."""
    mirrored = cv2.resize(other[:, ::-1], (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return gaussian_filter(mirrored, sigma=rng.uniform(1.0, 2.5)) * rng.uniform(0.08, 0.2)


def _photo(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone's capture: uneven light, a small tilt and a little perspective."""
    h, w = image.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / max(w, 1) + np.sin(angle) * yy / max(h, 1)).astype(np.float32)
    light = 1.0 - rng.uniform(0.05, 0.4) * (ramp - ramp.min()) / (np.ptp(ramp) + 1e-6)
    image = image * light
    jitter = rng.uniform(-0.04, 0.04, (4, 2)) * [w, h]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(corners, (corners + jitter).astype(np.float32))
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-3, 3), 1.0)
    matrix = np.vstack([rotation, [0, 0, 1]]) @ matrix
    border = float(np.median(image[0]))
    return cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def _capture(image: np.ndarray, rng: np.random.Generator, style: PaperStyle) -> np.ndarray:
    """Scanner or camera output: blur, sensor noise, contrast, JPEG, sometimes a hard threshold."""
    image = gaussian_filter(image, sigma=rng.uniform(0.2, 1.1))
    image = image + rng.normal(0.0, rng.uniform(0.0, 0.04), image.shape)
    low, high = rng.uniform(0.0, 0.15), rng.uniform(0.9, 1.0)
    grey = np.clip(np.rint(255 * (low + (high - low) * np.clip(image, 0, 1))), 0, 255).astype(np.uint8)
    if rng.random() < style.binarize_fraction:
        _, grey = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    elif rng.random() < style.jpeg_fraction:
        quality = int(rng.integers(25, 92))
        ok, encoded = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            grey = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    return grey
