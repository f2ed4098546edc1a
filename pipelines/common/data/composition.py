"""The composer of numbers from real handwritten digits, imitating one writer per number.

A writer has a digit height, a slant and a spacing habit, varied a little per digit (scale,
width, slant, rotation, baseline); gaps sometimes close so digits touch or overlap; the digits
get one pen thickness, or, for a share of the numbers, are redrawn along their centre lines with
a round canvas pen (:mod:`pipelines.common.data.pen_redraw`); the decimal point comes from
:mod:`pipelines.common.data.points`, the other marks (``, - + e ×``) are the pen writer's
(:func:`pipelines.common.data.pen.mark_strokes`), drawn with the writer's stroke width in the digits' layer; the
part after ``^`` (a raised exponent) is written smaller and higher, and ``^`` itself draws nothing.
Used by the
``handwritten_numbers`` and ``usps_benchmark`` stages through :func:`draw_numbers`, a chunk
function for :func:`pipelines.common.data.splits.write_splits`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from models.number_value import RAISED  # not drawn: what follows it is a raised exponent, smaller and higher
from pipelines.common.data.augment import build_augmenter
from pipelines.common.data.digit_pools import DigitPool
from pipelines.common.data.pen import MARK_TEMPLATES, Writer, mark_strokes, sample_writer
from pipelines.common.data.pen_redraw import redraw_as_pen, thin
from pipelines.common.data.points import draw_point, rasterize_strokes
from pipelines.common.data.splits import Chunk, Generated, shared_state

LOOPS = {"0": 1, "6": 1, "8": 2, "9": 1}
"""The loops a digit has at least: a number redrawn along its centre lines must keep them all."""

MAX_MARK_PEN = 0.13  # the widest pen a mark is drawn with, in digit heights: wider fills an e's eye and blots a ×


@dataclass(frozen=True)
class ComposeStyle:
    """How much one composed number varies: ranges are fractions of the writer's digit height."""

    digit_height: tuple[int, int] = (24, 64)
    scale_jitter: float = 0.07
    width_jitter: float = 0.12
    slant: tuple[float, float] = (-0.15, 0.4)
    slant_jitter: float = 0.06
    rotation_deg: float = 4.0
    baseline_jitter: float = 0.04
    spacing: tuple[float, float] = (0.08, 0.45)
    spacing_jitter: float = 0.05
    touch_fraction: float = 0.08
    mix_fraction: float = 0.15
    point_pen: tuple[float, float] = (0.07, 0.16)
    thinning: tuple[float, float] = (0.05, 0.35)
    margin: tuple[float, float] = (0.08, 0.4)
    redraw_pen: tuple[float, float] = (0.06, 0.16)  # round pen widths, drawn log-uniform
    raised_scale: tuple[float, float] = (0.55, 0.7)  # a raised exponent's digit height
    raised_lift: tuple[float, float] = (0.5, 0.8)  # its baseline above the main one


class DigitSource:
    """Picks real digits by label from weighted pools; one pool per number is its "writer"."""

    def __init__(self, pools: Sequence[DigitPool], weights: Sequence[float]) -> None:
        kept = [(pool, float(w)) for pool, w in zip(pools, weights, strict=True) if len(pool) and w > 0]
        if not kept:
            raise ValueError("no digit pool with digits and a positive weight")
        self.pools = [pool for pool, _ in kept]
        total = sum(w for _, w in kept)
        self.weights = np.array([w / total for _, w in kept])
        self.by_label = [[np.flatnonzero(pool.labels == d) for d in range(10)] for pool in self.pools]
        self._stroke_widths: dict[int, float] = {}

    def stroke_width(self, pool_index: int) -> float:
        """The typical stroke width of the pool's digits, in digit heights (measured once, no random draws)."""
        if pool_index not in self._stroke_widths:
            images = self.pools[pool_index].images
            sample = [images[i] for i in np.linspace(0, len(images) - 1, min(48, len(images))).astype(int)]
            self._stroke_widths[pool_index] = float(np.median([stroke_fraction(image) for image in sample]))
        return self._stroke_widths[pool_index]

    def writer(self, rng: np.random.Generator) -> int:
        """Draw the pool a number's digits mostly come from."""
        return int(rng.choice(len(self.pools), p=self.weights))

    def pick(self, digit: int, pool_index: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """Return a random ink map of ``digit`` from the pool (or, if it has none, another) and its id."""
        candidates = self.by_label[pool_index][digit]
        if candidates.size == 0:
            having = [i for i in range(len(self.pools)) if self.by_label[i][digit].size]
            if not having:
                raise ValueError(f"no pool holds the digit {digit}")
            weights = self.weights[having] / self.weights[having].sum()
            pool_index = int(rng.choice(having, p=weights))
            candidates = self.by_label[pool_index][digit]
        i = int(candidates[rng.integers(candidates.size)])
        pool = self.pools[pool_index]
        return pool.images[i], pool.ids[i]


def stroke_fraction(image: np.ndarray) -> float:
    """The stroke width of one digit's ink map as a fraction of its height (0.06-0.2).

    Twice the median distance from the centre line to the edge of the half-ink mask, as the pen
    redraw measures it (:mod:`pipelines.common.data.pen_redraw`).
    """
    mask = image > 127
    skeleton = thin(mask)
    if not skeleton.any():
        return 0.1
    inside = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    return float(np.clip(2 * np.median(inside[skeleton]) / image.shape[0], 0.06, 0.2))


def transform_digit(image: np.ndarray, height: float, width_factor: float, shear: float, angle: float) -> np.ndarray:
    """Scale an ink map to ``height`` pixels (width times ``width_factor``), slant it and rotate it.

    ``shear`` > 0 leans the top to the right; ``angle`` is in degrees. Returns a float32 ink
    map in [0, 1] sized to the transformed digit.
    """
    h0, w0 = image.shape
    sy = height / h0
    sx = sy * width_factor
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    matrix = rotation @ np.array([[1.0, -shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    corners = matrix @ np.array([[0, w0, 0, w0], [0, 0, h0, h0]], dtype=np.float64)
    low = corners.min(axis=1)
    size = np.maximum(1, np.ceil(corners.max(axis=1) - low)).astype(int)
    inverse = np.linalg.inv(matrix)
    offset = inverse @ low
    coefficients = (inverse[0, 0], inverse[0, 1], offset[0], inverse[1, 0], inverse[1, 1], offset[1])
    out = Image.fromarray(image).transform(
        (int(size[0]), int(size[1])), Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR
    )
    return np.asarray(out, dtype=np.float32) / 255.0


def compose_number(
    text: str, source: DigitSource, style: ComposeStyle, rng: np.random.Generator, pen: float | None = None
) -> tuple[np.ndarray, list[str]]:
    """Compose ``text`` (any text over the alphabet ``0-9 . , - + e × ^``) from real digits as one writer would.

    Every digit is a real scanned one; ``.`` is a drawn point; ``, - + e ×`` are the pen writer's marks
    (:func:`pipelines.common.data.pen.mark_strokes`) of the writer's stroke width, thickened with the digits (with
    ``pen``, drawn with that round pen and not redrawn);
    after ``^`` (not drawn) the digits and a sign are raised: :data:`ComposeStyle.raised_scale` of the
    digit height, their baseline :data:`ComposeStyle.raised_lift` digit heights up. A text of digits
    and ``.`` only draws exactly as before the marks existed (the same random draws).

    Each piece is placed by the ink it shares rows with, so the gap is the distance
    between strokes (negative: they touch or overlap), whatever the slant. Returns the
    float32 ink map in [0, 1] (ink high, background 0, with a margin) and the ids of the
    real digits used, in order. With ``pen`` (a fraction of the digit height), the digits are
    redrawn along their centre lines with a round pen that wide instead of thickened, unless
    that loses one of their loops (:data:`LOOPS`); ``rng`` is drawn from exactly as without it.
    """
    height = rng.uniform(*style.digit_height)
    writer = source.writer(rng)
    slant = rng.uniform(*style.slant)
    spacing = rng.uniform(*style.spacing)
    baseline = int(2 * height)
    layout = _Layout(int(3.5 * height))
    ids: list[str] = []
    point_right: float | None = None
    hand: Writer | None = None  # the pen writer's habits for the marks (, - + e ×), and the template of each
    styles: dict[str, int] = {}
    size, line = height, baseline  # the current digit height and baseline row (smaller and higher once raised)
    for char in text:
        if char == RAISED:
            size, line = _raised(height, baseline, style, rng)
            continue
        if char == ".":
            point = draw_point(size, rng.uniform(*style.point_pen), rng)
            gap = rng.uniform(0.05, 0.22) * size
            if rng.random() < style.touch_fraction:
                gap = -rng.uniform(0.0, 0.4) * point.shape[1]
            bottom = line + round(rng.uniform(-0.06, 0.04) * size)
            not_tucked = layout.ink_right() - 0.12 * size
            point_right = layout.place(point, bottom - point.shape[0], gap, not_before=not_tucked, is_point=True)
            continue
        if char in MARK_TEMPLATES:
            # the pen writer's habits, drawn at the first mark so that digits alone draw as before
            hand = hand or sample_writer(rng)
            strokes = mark_strokes(char, replace(hand, slant=slant + rng.normal(0, style.slant_jitter)), rng, styles)
            pen_width = min(MAX_MARK_PEN, source.stroke_width(writer)) * float(np.exp(rng.normal(0.0, 0.1)))
            if pen is not None:  # drawn with the round pen itself: a redraw would prune a small mark's arms
                pen_width = pen * height / size
            mark, top = rasterize_strokes(strokes, pen_width, size)
            gap = rng.uniform(0.1, 0.3) * size
            # clear of every mark and digit before it: a touching - reads as part of them
            beside = layout.ink_right() + gap
            point_right = layout.place(mark, line + round(top * size), gap, not_before=beside, is_point=pen is not None)
            continue
        pool_index = source.writer(rng) if rng.random() < style.mix_fraction else writer
        image, digit_id = source.pick(int(char), pool_index, rng)
        ids.append(digit_id)
        digit = transform_digit(
            image,
            height=size * float(np.exp(rng.normal(0, style.scale_jitter))),
            width_factor=float(np.exp(rng.uniform(-style.width_jitter, style.width_jitter))),
            shear=slant + rng.normal(0, style.slant_jitter),
            angle=float(np.clip(rng.normal(0, style.rotation_deg), -2 * style.rotation_deg, 2 * style.rotation_deg)),
        )
        gap = max(0.03, spacing + rng.normal(0, style.spacing_jitter)) * size
        not_before = -np.inf
        if point_right is not None:
            not_before = point_right + rng.uniform(0.05, 0.2) * size
        elif rng.random() < style.touch_fraction:
            gap = -rng.uniform(0.0, 0.06) * size
        bottom = line + round(rng.normal(0, style.baseline_jitter) * size)
        layout.place(digit, bottom - digit.shape[0], gap, not_before=not_before)
        point_right = None
    loops = sum(LOOPS.get(char, 0) for char in text)
    return layout.render(height, style, rng, pen, loops), ids


def _raised(height: float, baseline: int, style: ComposeStyle, rng: np.random.Generator) -> tuple[float, int]:
    """The digit height and baseline row of a raised exponent for a writer of ``height`` px digits."""
    size = height * rng.uniform(*style.raised_scale)
    return size, baseline - round(rng.uniform(*style.raised_lift) * height)


class _Layout:
    """Pieces placed left to right on a frame of fixed height, tracking the rightmost ink of every row."""

    def __init__(self, frame_height: int) -> None:
        self.right = np.full(frame_height, -np.inf)
        self.pieces: list[tuple[np.ndarray, int, int, bool]] = []

    def ink_right(self) -> float:
        """Return the rightmost ink column placed so far (-inf before the first piece)."""
        placed = self.right[np.isfinite(self.right)]
        return float(placed.max()) if placed.size else -np.inf

    def place(
        self, piece: np.ndarray, top: int, gap: float, not_before: float = -np.inf, is_point: bool = False
    ) -> float:
        """Put ``piece`` at row ``top``, ``gap`` pixels right of the ink already in its rows.

        Its leftmost ink is never left of column ``not_before``. Returns its rightmost ink column.
        """
        top = int(np.clip(top, 0, self.right.size - piece.shape[0]))
        ink = piece > 0.2
        has_ink = ink.any(axis=1)
        first = np.where(has_ink, ink.argmax(axis=1), 0)
        last = np.where(has_ink, piece.shape[1] - 1 - ink[:, ::-1].argmax(axis=1), 0)
        previous = self.right[top : top + piece.shape[0]]
        shared = has_ink & np.isfinite(previous)
        if not self.pieces:
            x = 0
        elif shared.any():
            x = int(np.ceil(np.max(previous[shared] - first[shared]) + 1 + gap))
        else:
            x = int(np.ceil(self.ink_right() + 1 + gap))
        if has_ink.any() and np.isfinite(not_before):
            x = max(x, int(np.ceil(not_before - first[has_ink].min())))
        rows = np.arange(top, top + piece.shape[0])[has_ink]
        self.right[rows] = np.maximum(self.right[rows], x + last[has_ink])
        self.pieces.append((piece, x, top, is_point))
        return float(x + last[has_ink].max()) if has_ink.any() else float(x + piece.shape[1])

    def render(
        self, height: float, style: ComposeStyle, rng: np.random.Generator, pen: float | None = None, loops: int = 0
    ) -> np.ndarray:
        """Paste the pieces with margins; the digits get one pen thickness, the point keeps its drawn size.

        With ``pen`` (a fraction of ``height``) the digits are redrawn as strokes of a round pen that
        wide, unless the redrawn digits have fewer than ``loops`` holes: then they keep the thick look.
        """
        left = min(x for _, x, _, _ in self.pieces)
        top = min(y for _, _, y, _ in self.pieces)
        right = max(x + p.shape[1] for p, x, _, _ in self.pieces)
        bottom = max(y + p.shape[0] for p, _, y, _ in self.pieces)
        margins = [int(rng.uniform(*style.margin) * height) + 2 for _ in range(4)]
        shape = (bottom - top + margins[1] + margins[3], right - left + margins[0] + margins[2])
        digits = np.zeros(shape, dtype=np.float32)
        points = np.zeros(shape, dtype=np.float32)
        for piece, x, y, is_point in self.pieces:
            row, col = y - top + margins[1], x - left + margins[0]
            region = (points if is_point else digits)[row : row + piece.shape[0], col : col + piece.shape[1]]
            np.maximum(region, piece, out=region)
        thinning = rng.uniform(*style.thinning)
        redrawn = None if pen is None else redraw_as_pen(digits, pen * height, min_holes=loops)
        if redrawn is not None:
            return np.maximum(redrawn, gaussian_filter(points, sigma=0.5))
        blurred = gaussian_filter(digits, sigma=max(0.6, 0.035 * height))
        thick = np.clip((blurred - thinning) / 0.35, 0.0, 1.0)
        strong = thick[thick > 0.05]
        if strong.size:
            thick = np.clip(thick / max(0.3, float(np.percentile(strong, 99))), 0.0, 1.0)
        return np.maximum(thick, gaussian_filter(points, sigma=0.5))


def ink_to_paper(ink: np.ndarray) -> np.ndarray:
    """Turn an ink map (ink 1) into a uint8 image of black ink on white paper."""
    return np.clip(np.rint(255.0 * (1.0 - ink)), 0, 255).astype(np.uint8)


PEN_STREAM = 7919
"""Appended to a sample's seed for the generator that decides its pen redraw, apart from its composing one."""


@dataclass(frozen=True)
class NumberSettings:
    """What every chunk of one split needs besides the digits: the texts, the look and the seed.

    ``pen_redraw_fraction`` is the share of numbers whose digits are redrawn with a round pen (0: none).
    """

    texts: tuple[str, ...]
    style: ComposeStyle
    seed: tuple[int, ...]
    augment_strength: float
    dark_fraction: float
    pen_redraw_fraction: float = 0.0


def draw_numbers(chunk: Chunk) -> list[Generated]:
    """Compose one chunk of numbers from the split's digits (``shared_state()[split]``, a DigitSource).

    Every sample has its own generator seeded from ``(seed, index)``; the augmenter is seeded per chunk.
    Whether a sample's digits are redrawn with a round pen (``pen_redraw_fraction``), and the pen's
    width, come from a second generator seeded from ``(seed, index, PEN_STREAM)``: the composing
    generator is untouched, and at fraction 0 nothing else is drawn, so every sample is as before.
    (The per-chunk augmenter draws partly by content, so after a redrawn sample its later draws may differ.)
    """
    settings: NumberSettings = chunk.settings
    source: DigitSource = shared_state()[chunk.split]
    augment = _augmenter(settings.augment_strength, [*settings.seed, chunk.start], settings.dark_fraction)
    samples = []
    for index in range(chunk.start, chunk.start + chunk.count):
        rng = np.random.default_rng([*settings.seed, index])
        text = settings.texts[index]
        pen = None
        if settings.pen_redraw_fraction > 0:
            pen_rng = np.random.default_rng([*settings.seed, index, PEN_STREAM])
            if pen_rng.random() < settings.pen_redraw_fraction:
                pen = float(np.exp(pen_rng.uniform(*np.log(settings.style.redraw_pen))))  # log-uniform
        ink, ids = compose_number(text, source, settings.style, rng, pen)
        samples.append(Generated(augment(ink_to_paper(ink)), text, tuple(ids)))
    return samples


def _augmenter(strength: float, seed: list[int], dark_fraction: float) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap the shared augmenter as a function of a uint8 image; the identity at strength 0."""
    if strength <= 0:
        return lambda image: image
    compose = build_augmenter(
        strength, int(np.random.SeedSequence(seed).generate_state(1)[0]), dark_fraction=dark_fraction
    )
    return lambda image: compose(image=image)["image"]
