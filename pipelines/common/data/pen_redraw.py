"""Real handwritten digits redrawn as canvas pen strokes: the ink thinned to its centre lines, then a round pen.

A scanned digit carries its writer's shape and its scanner's stroke: thick, blurred, uneven.
A digit drawn on a web canvas has a round pen of one width and sharp antialiased edges.
:func:`redraw_as_pen` keeps the first and swaps the second: the ink map is upsampled,
thresholded and thinned to a one-pixel skeleton (scikit-image's ``skeletonize``); short spurs
are pruned, and every pixel within half the pen width of the skeleton is inked, antialiased by
the exact distance at the upsampled scale and an area downsampling. Used by
:mod:`pipelines.common.data.composition` for a share of the composed numbers.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

UPSAMPLED_HEIGHT = 96.0
"""Upsample until the ink is about this tall (at most 4x, at least 2x): thinning is smooth there and still fast."""

_RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
"""The 8 neighbours clockwise from north; bit i of a code is neighbour i."""


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Per 8-neighbour code: the neighbour count and the crossing number (0-to-1 steps around the ring)."""
    codes = np.arange(256)
    bits = (codes[:, None] >> np.arange(8)) & 1
    count = bits.sum(axis=1)
    crossings = ((bits == 0) & (np.roll(bits, -1, axis=1) == 1)).sum(axis=1)
    return count, crossings


_COUNT, _CROSSINGS = _tables()


def _codes(flat: np.ndarray, where: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Return the 8-neighbour code of the pixels ``where`` of a padded, flattened binary image."""
    code = np.zeros(where.size, dtype=np.uint8)
    for bit, offset in enumerate(offsets):
        code |= flat[where + offset] << np.uint8(bit)
    return code


def thin(mask: np.ndarray) -> np.ndarray:
    """Thin a binary mask to its one-pixel-wide skeleton (scikit-image's ``skeletonize``)."""
    return skeletonize(mask.astype(bool))


def prune(skeleton: np.ndarray, length: int) -> np.ndarray:
    """Remove the skeleton's branches shorter than ``length`` pixels that end free (spurs).

    The classic pruning: strip end pixels ``length`` times, then regrow the surviving ends
    along the removed pixels as far. A skeleton piece that would vanish whole is kept as it was.
    """
    if length <= 0:
        return skeleton
    padded = np.pad(skeleton.astype(np.uint8), 1)
    width = padded.shape[1]
    offsets = np.array([dy * width + dx for dy, dx in _RING])
    flat = padded.ravel()
    original = flat.copy()
    on = np.flatnonzero(flat)
    stripped: list[np.ndarray] = []
    for _ in range(length):
        codes = _codes(flat, on, offsets)
        ends = (_CROSSINGS[codes] == 1) & (_COUNT[codes] <= 2)
        if not ends.any():
            break
        stripped.append(on[ends])
        flat[on[ends]] = 0
        on = on[~ends]
    if not stripped:
        return skeleton
    removed = np.zeros_like(flat)
    removed[np.concatenate(stripped)] = 1
    codes = _codes(flat, on, offsets)
    frontier = on[(_CROSSINGS[codes] == 1) & (_COUNT[codes] <= 2)]
    for _ in range(len(stripped)):
        if frontier.size == 0:
            break
        reached = np.unique((frontier[:, None] + offsets[None, :]).ravel())
        frontier = reached[removed[reached] == 1]
        removed[frontier] = 0
        flat[frontier] = 1
    result = flat.reshape(padded.shape)
    count, labels = cv2.connectedComponents(original.reshape(padded.shape), connectivity=8)
    kept = np.zeros(count, dtype=bool)
    kept[labels[result == 1]] = True
    vanished = ~kept[labels] & (original.reshape(padded.shape) == 1)
    result[vanished] = 1
    return result[1:-1, 1:-1].astype(bool)


def count_holes(ink: np.ndarray, threshold: float = 0.5, min_area: int = 2) -> int:
    """Count the holes in an ink map: areas of background (4-connected) of ``min_area`` pixels or more
    that ink at ``threshold`` closes off from the border.
    """
    background = np.pad(ink < threshold, 1, constant_values=True).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(background, connectivity=4)
    outside = labels[0, 0]
    return int(sum(1 for i in range(1, count) if i != outside and stats[i, cv2.CC_STAT_AREA] >= min_area))


def redraw_as_pen(
    ink: np.ndarray, pen_width_px: float, min_holes: int = 0, threshold: float = 0.4
) -> np.ndarray | None:
    """Redraw an ink map (float in [0, 1], ink high) along its centre lines with a round pen ``pen_width_px`` wide.

    Returns a float32 ink map of the same shape: 1 inside the strokes, antialiased edges,
    no blur. Returns None where it cannot redraw: no ink reaches ``threshold``, or the redrawn
    ink has fewer than ``min_holes`` holes (the loops of 0, 6, 8 and 9: a loop the scan filled
    in thins to a line, and the digit would change).
    """
    rows, cols = np.flatnonzero((ink >= threshold).any(axis=1)), np.flatnonzero((ink >= threshold).any(axis=0))
    if rows.size == 0:
        return None
    radius = pen_width_px / 2.0
    pad = int(np.ceil(radius)) + 2
    top, bottom = max(0, rows[0] - pad), min(ink.shape[0], rows[-1] + 1 + pad)
    left, right = max(0, cols[0] - pad), min(ink.shape[1], cols[-1] + 1 + pad)
    crop = ink[top:bottom, left:right].astype(np.float32)
    scale = int(np.clip(np.ceil(UPSAMPLED_HEIGHT / max(1, rows[-1] - rows[0] + 1)), 2, 4))
    size = (crop.shape[1] * scale, crop.shape[0] * scale)
    upsampled = cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)
    upsampled = cv2.GaussianBlur(upsampled, (0, 0), sigmaX=0.35 * scale)
    mask = upsampled >= threshold
    stroke = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    skeleton = thin(mask)
    if not skeleton.any():
        return None
    half_width = float(np.median(stroke[skeleton]))
    skeleton = prune(skeleton, round(1.5 * half_width))
    distance = cv2.distanceTransform((~skeleton).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    drawn = np.clip(radius * scale - distance + 0.5, 0.0, 1.0)
    out = np.zeros(ink.shape, dtype=np.float32)
    out[top:bottom, left:right] = cv2.resize(drawn, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_AREA)
    if min_holes and count_holes(out[top:bottom, left:right]) < min_holes:
        return None
    return out
