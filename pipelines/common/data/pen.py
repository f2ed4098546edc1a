"""The pen writer: numbers drawn as pen trajectories, the way a hand moves a pen or a finger.

Every digit has several hand-designed stroke templates (control points in a unit box, y = 0 at
the top and 1 on the baseline): a plain ``1`` and ones with a hook, a flag or a foot, open and
closed ``4``, ``7`` with and without a bar or with a curved stem, ``9`` with a straight or curved
tail, ``2`` with and without a bottom loop, and so on. Each number is written by a random
:class:`Writer` (slant, aspect, sloppiness, pen width, spacing, pace, size and baseline wander,
hooks and overshoot at stroke ends, retraced strokes, and mostly one template choice per digit
kept across the number); every control point is jittered, the strokes are traced as centripetal
Catmull-Rom splines, sampled unevenly as a moving pen reports them, drawn at 4x with round caps
and downsampled (antialiased). Characters are placed by their ink profiles, down to touching and
overlapping; decimal points come from :mod:`pipelines.common.data.points`.

The other characters of the alphabet have templates of their own in the same language, sized and
placed as handwriting puts them against the digits: ``,`` (a short tail below the baseline), ``-``
and ``+`` at mid height, a lower-case ``e`` at x-height and ``×`` as a small diagonal cross at mid
height. ``^`` draws nothing: what follows it is a raised exponent (``6.02×10^23``), written at about
0.55-0.7 of the digit height with its baseline lifted to the middle or upper part of the digits.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from models.number_value import RAISED  # draws nothing: the rest of the text is a raised exponent
from pipelines.common.data.points import point_stroke

HEIGHT_RANGE = (40, 80)
SUPERSAMPLE = 4
SHIFT_BITS = 4
PROFILE_BANDS = 16
PROFILE_TOP = -1.6  # digit-height units; the baseline is at 0
PROFILE_SPAN = 2.0

# digit -> [(weight, strokes)]. Strokes are separated by "|"; a point is "x,y" in a unit box
# (x mostly 0..0.6, y from 0 at the top to 1 on the baseline); a "*" marks a sharp corner,
# where the spline is split.
TEMPLATE_TEXT: dict[str, list[tuple[float, str]]] = {
    "0": [
        (0.6, ".32,0 .1,.12 .02,.5 .12,.88 .32,1 .52,.88 .6,.5 .5,.12 .3,0 .2,.07"),
        (0.4, ".36,.02 .54,.22 .54,.75 .3,1 .06,.8 .06,.25 .28,0 .42,.06"),
    ],
    "1": [
        (0.4, ".3,0 .27,1"),
        (0.3, ".1,.24 .3,0* .3,1"),
        (0.2, ".1,.22 .32,0* .32,1 | .1,1 .54,1"),
        (0.1, ".08,.34 .36,0* .36,1"),
    ],
    "2": [
        (0.5, ".05,.22 .2,.03 .42,.02 .55,.18 .5,.42 .25,.7 .02,1* .6,.98"),
        (0.25, ".05,.22 .22,.02 .45,.03 .55,.2 .48,.45 .2,.75 .04,.97 .06,.86 .16,.86 .24,.97 .6,.98"),
        (0.25, ".04,.2 .25,0 .5,.08 .52,.35 .02,1* .25,.94 .45,1 .62,.95"),
    ],
    "3": [
        (0.5, ".05,.15 .27,0 .5,.08 .52,.3 .25,.47* .52,.6 .57,.82 .35,1 .03,.88"),
        (0.2, ".04,.02 .55,.02* .25,.42* .5,.52 .58,.78 .38,.99 .04,.88"),
        (0.3, ".05,.12 .3,0 .52,.12 .45,.38 .22,.48 .48,.56 .56,.8 .32,1 .04,.86"),
    ],
    "4": [
        (0.5, ".38,0 .02,.66* .62,.66 | .46,.28 .46,1"),
        (0.3, ".46,1 .46,0* .02,.66* .62,.66"),
        (0.2, ".06,0 .04,.62* .62,.62 | .48,.1 .46,1"),
    ],
    "5": [
        (0.5, ".12,0 .08,.45* .3,.38 .5,.45 .57,.7 .42,.95 .2,1 .02,.9 | .12,.01 .56,0"),
        (0.35, ".58,0 .12,0* .08,.45* .3,.38 .52,.48 .56,.75 .38,.97 .03,.9"),
        (0.15, ".14,.02 .1,.42* .35,.36 .56,.55 .5,.85 .25,1 .04,.94 | .14,.02 .6,-.02"),
    ],
    "6": [
        (0.6, ".5,.03 .28,.15 .1,.45 .08,.78 .25,1 .48,.92 .55,.7 .4,.52 .2,.55 .08,.72"),
        (0.4, ".45,0 .15,.45 .08,.75 .22,.98 .45,.97 .55,.75 .4,.55 .18,.6"),
    ],
    "7": [
        (0.45, ".02,.04 .58,.02* .22,1"),
        (0.2, ".02,.04 .58,.02* .22,1 | .12,.52 .5,.5"),
        (0.2, ".02,.06 .6,.02* .42,.38 .3,.7 .26,1"),
        (0.15, ".03,.2 .04,.03* .58,.03* .24,1"),
    ],
    "8": [
        (0.6, ".52,.1 .3,0 .08,.1 .1,.32 .3,.47 .54,.64 .56,.86 .32,1 .06,.88 .08,.65 .3,.47 .5,.32 .52,.12 .32,0"),
        (
            0.4,
            ".3,0 .1,.1 .12,.36 .3,.46 .48,.36 .5,.1 .3,0 .25,.03"
            " | .3,.46 .06,.62 .06,.9 .3,1 .55,.9 .55,.62 .3,.46 .26,.49",
        ),
    ],
    "9": [
        (0.45, ".55,.15 .35,.02 .1,.08 .05,.3 .25,.46 .5,.38 .56,.1* .52,1"),
        (0.3, ".55,.15 .35,.02 .1,.08 .05,.3 .25,.46 .5,.38 .56,.1* .56,.55 .48,.85 .25,1"),
        (0.25, ".5,.12 .3,0 .08,.12 .08,.36 .3,.46 .52,.34 .5,.12 | .54,.05 .5,1"),
    ],
}


@dataclass(frozen=True)
class Stroke:
    """One pen-down trajectory of a template: its control points and the indices of its sharp corners."""

    points: np.ndarray
    corners: tuple[int, ...]


def parse_template(text: str) -> list[Stroke]:
    """Parse ``".1,.2 .3,0* .3,1 | ..."`` into strokes (``*`` marks a corner)."""
    strokes = []
    for part in text.split("|"):
        tokens = part.split()
        points = np.array([[float(v) for v in token.rstrip("*").split(",")] for token in tokens])
        strokes.append(Stroke(points, tuple(i for i, token in enumerate(tokens) if token.endswith("*"))))
    return strokes


TEMPLATES: dict[str, list[tuple[float, list[Stroke]]]] = {
    digit: [(weight, parse_template(text)) for weight, text in variants] for digit, variants in TEMPLATE_TEXT.items()
}

# The characters beside the digits, in the digits' unit box (y = 1 is the baseline, so a comma's tail
# has y > 1; mid height is y = 0.5, the x-height of an ``e`` about y = 0.45).
MARK_TEMPLATE_TEXT: dict[str, list[tuple[float, str]]] = {
    ",": [
        (0.4, ".06,.9 .08,.97 .06,1.08 0,1.22"),  # a short stroke curving down-left below the baseline
        (0.35, ".05,.88 .1,.92 .09,1 .04,1.12 -.02,1.21"),  # a round head, then the tail
        (0.25, ".12,.9 0,1.22"),  # a straight, leaning tick
    ],
    "-": [
        (0.6, "0,.52 .36,.5"),
        (0.25, "0,.5 .2,.49 .42,.51"),
        (0.15, ".02,.55 .36,.5"),
    ],
    "+": [
        (0.6, "0,.56 .44,.55 | .22,.34 .21,.78"),  # bar first
        (0.4, ".23,.33 .21,.78 | 0,.56 .44,.56"),  # stem first
    ],
    "e": [
        (0.55, ".04,.74 .38,.72 .4,.58 .28,.45 .12,.47 .03,.62 .04,.84 .16,.98 .32,1 .44,.92"),  # bar, then round
        (0.3, ".06,.8 .24,.72 .34,.58 .26,.46 .12,.5 .04,.7 .08,.9 .22,1 .4,.95"),  # a loop from below
        (0.15, ".4,.62 .32,.47 .16,.45 .05,.58 .04,.8 .16,.97 .32,1 .44,.92 | .04,.7 .41,.66"),  # a c, then its bar
    ],
    "×": [
        (0.6, "0,.38 .34,.72 | .34,.38 0,.72"),
        (0.4, ".34,.37 0,.72 | .02,.38 .35,.71"),
    ],
}
MARK_TEMPLATES: dict[str, list[tuple[float, list[Stroke]]]] = {
    mark: [(weight, parse_template(text)) for weight, text in variants] for mark, variants in MARK_TEMPLATE_TEXT.items()
}
DIGITS = "0123456789"
POINT = "."
DRAWN = DIGITS + POINT + "".join(MARK_TEMPLATES) + RAISED
"""Every character :func:`trace_number` writes."""
FLOWING = DIGITS + "e"  # a digit after one of these keeps the writer's own spacing
MARK_JITTER = 0.6  # control-point jitter of a mark, relative to the writer's sloppiness on digits
RAISED_SCALE = (0.55, 0.7)  # size of a raised exponent, in digit heights
RAISED_LIFT = (0.45, 0.62)  # its baseline above the number's, in digit heights
RAISED_SPACING = 0.85  # its spacing, relative to its size, against the main digits'


@dataclass(frozen=True)
class Writer:
    """One writer's habits, shared by every character of a number."""

    slant: float  # x shift per unit of height above the baseline (positive leans right)
    aspect: float  # width scale of the digits
    sloppiness: float  # std of control-point jitter, in digit heights
    pen: float  # pen width, in digit heights
    gap: float  # mean space between characters, in digit heights (negative overlaps)
    drift: float  # baseline slope per character, in digit heights
    step: float  # mean distance between reported pen positions, in digit heights
    tremor: float  # std of per-position noise, in digit heights
    pressure: bool  # whether the pen width varies along a stroke
    styles: dict[str, int]  # the template this writer uses for each digit
    consistency: float  # chance a digit uses the writer's template rather than any
    size_wander: float  # std of each digit's size around the writer's, in digit heights
    hooks: float  # chance that a stroke starts or ends with a small hook or tick
    overshoot: float  # how far a stroke may run on past its end, in digit heights
    retrace: float  # chance that a stroke's end is gone over again


def sample_writer(rng: np.random.Generator) -> Writer:
    """Draw a writer: habits vary a lot between writers and little within one number."""
    styles = {digit: _weighted_choice(rng, [w for w, _ in variants]) for digit, variants in TEMPLATES.items()}
    return Writer(
        slant=float(np.clip(rng.normal(0.12, 0.15), -0.25, 0.5)),
        aspect=float(rng.uniform(0.75, 1.3)),
        sloppiness=float(rng.uniform(0.01, 0.045)),
        pen=float(np.exp(rng.uniform(np.log(0.05), np.log(0.17)))),
        gap=float(rng.uniform(-0.03, 0.35)),
        drift=float(rng.normal(0.0, 0.03)),
        step=float(rng.uniform(0.015, 0.07)),
        tremor=float(rng.uniform(0.0, 0.006)),
        pressure=bool(rng.random() < 0.25),
        styles=styles,
        consistency=float(rng.choice([1.0, 0.85, 0.5], p=[0.5, 0.35, 0.15])),
        size_wander=float(rng.uniform(0.03, 0.12)),
        hooks=float(rng.choice([0.0, 0.15, 0.4], p=[0.4, 0.4, 0.2])),
        overshoot=float(rng.uniform(0.0, 0.08)),
        retrace=float(rng.choice([0.0, 0.1], p=[0.7, 0.3])),
    )


def _weighted_choice(rng: np.random.Generator, weights: list[float]) -> int:
    """Index drawn with probability proportional to ``weights``."""
    p = np.asarray(weights, dtype=float)
    return int(rng.choice(len(p), p=p / p.sum()))


Glyphs = Callable[[str, Writer, np.random.Generator], list[np.ndarray]]
"""Draws one digit's trajectories for a writer (digit-height units, baseline at y = 0, up negative)."""


def trace_number(
    text: str, writer: Writer, rng: np.random.Generator, glyphs: Glyphs | None = None
) -> tuple[list[np.ndarray], list[float]]:
    """Lay out ``text`` as pen trajectories in digit-height units; return the strokes and their pen widths.

    ``text`` is over :data:`DRAWN`. Digits come from ``glyphs`` (default: the hand-designed templates);
    decimal points from :mod:`pipelines.common.data.points`; ``, - + e ×`` from :data:`MARK_TEMPLATES` in
    this writer's hand. Everything after ``^`` is a raised exponent (:func:`raise_glyph`).

    Each character is placed by its ink profile against the previous character's (the closest
    approach, band of rows by band of rows), so a gap of 0 makes neighbours touch and a negative
    gap makes them cross a little, whatever the slant; no character starts left of the middle
    of the one before it.
    """
    strokes: list[np.ndarray] = []
    widths: list[float] = []
    right = np.full(PROFILE_BANDS, -np.inf)  # the previous character's right ink edge per band
    previous_centre = -np.inf
    baseline = 0.0
    previous = ""
    styles: dict[str, int] = {}  # the template this number uses for each mark
    raised: tuple[float, float] | None = None
    for char in text:
        if char == RAISED:
            raised = (float(rng.uniform(*RAISED_SCALE)), float(rng.uniform(*RAISED_LIFT)))
            continue
        baseline += writer.drift + rng.normal(0.0, 0.025)
        glyph, pens, gap = _character(char, previous, writer, rng, glyphs, styles)
        if raised is not None:
            glyph, gap = raise_glyph(glyph, *raised), gap * raised[0] * RAISED_SPACING
        glyph = [stroke + np.array([0.0, baseline]) for stroke in glyph]
        left = _profile(glyph, pens, side=-1)
        shift = 0.0
        if previous:
            padded = np.pad(right, 2, constant_values=-np.inf)
            reach = np.max([padded[k : k + PROFILE_BANDS] for k in range(5)], axis=0)  # +-2 bands: drift, dots
            both = np.isfinite(reach) & np.isfinite(left)
            shift = float(np.max(reach[both] - left[both])) if both.any() else float(right.max() - left.min())
            shift = max(shift + gap, previous_centre - float(left.min()))
        glyph = [stroke + np.array([shift, 0.0]) for stroke in glyph]
        strokes.extend(glyph)
        widths.extend(pens)
        right = _profile(glyph, pens, side=1)
        previous_centre = (float(right.max()) + float(left.min()) + shift) / 2
        previous = char
    return strokes, widths


def _character(
    char: str, previous: str, writer: Writer, rng: np.random.Generator, glyphs: Glyphs | None, styles: dict[str, int]
) -> tuple[list[np.ndarray], list[float], float]:
    """One character's trajectories (baseline at y = 0), their pen widths and the gap to leave before it."""
    if char == POINT:
        dot, pen = point_stroke(writer.pen, rng)
        return [dot], [pen], _point_gap(rng)
    if char in MARK_TEMPLATES:
        return _mark(char, previous, writer, rng, styles)
    if char not in DIGITS:
        raise ValueError(f"the pen writer cannot draw {char!r} (it writes {DRAWN!r})")
    glyph = (glyphs or _digit_strokes)(char, writer, rng)
    pens = [writer.pen * rng.uniform(0.92, 1.08) for _ in glyph]
    gap = writer.gap + rng.normal(0.0, 0.04) if previous in tuple(FLOWING) else rng.uniform(0.0, 0.2)
    return glyph, pens, max(gap, -0.05)


def _point_gap(rng: np.random.Generator) -> float:
    """The space before a decimal point or comma: small, now and then slightly overlapping."""
    return rng.uniform(-0.03, 0.22) if rng.random() < 0.15 else rng.uniform(0.0, 0.22)


def _mark(
    char: str, previous: str, writer: Writer, rng: np.random.Generator, styles: dict[str, int]
) -> tuple[list[np.ndarray], list[float], float]:
    """A mark's trajectories, pen widths and the gap before it: a comma like a point, an ``e`` like a
    letter after digits, signs and ``×`` with a little room.
    """
    glyph = mark_strokes(char, writer, rng, styles)
    if char == ",":
        return glyph, [writer.pen * rng.uniform(0.9, 1.3)], _point_gap(rng)
    pens = [writer.pen * rng.uniform(0.92, 1.08) for _ in glyph]
    if char == "e":
        gap = writer.gap + rng.normal(0.0, 0.04) if previous in tuple(DIGITS) else rng.uniform(0.0, 0.15)
        return glyph, pens, max(gap, 0.0)
    return glyph, pens, rng.uniform(0.06, 0.28) if char == "×" else rng.uniform(0.1, 0.3)


def mark_strokes(
    char: str, writer: Writer, rng: np.random.Generator, styles: dict[str, int] | None = None
) -> list[np.ndarray]:
    """The trajectories of a mark (``, - + e ×``) in ``writer``'s hand: digit-height units, baseline at y = 0.

    A template is jittered (less than a digit, being small), widened by the writer's aspect, turned a
    little, slanted and traced. ``styles`` remembers the template chosen for each mark, so one
    number writes its marks alike.
    """
    variants = MARK_TEMPLATES[char]
    styles = {} if styles is None else styles
    if char not in styles:
        styles[char] = _weighted_choice(rng, [w for w, _ in variants])
    size = rng.normal(1.0, writer.size_wander / 2)
    angle = np.deg2rad(rng.normal(0.0, 3.0))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    template = variants[styles[char]][1]
    centre = np.vstack([stroke.points for stroke in template]).mean(axis=0)
    traced = []
    for stroke in template:
        points = stroke.points + rng.normal(0.0, writer.sloppiness * MARK_JITTER, stroke.points.shape)
        points[:, 0] *= writer.aspect
        points = (points - centre) @ rotation.T + centre
        points = (points - [0.0, 1.0]) * size + [0.0, 1.0]
        points[:, 0] += writer.slant * (1.0 - points[:, 1])
        traced.append(_pen_positions(_spline(points, stroke.corners), writer, rng))
    return [t - [0.0, 1.0] for t in traced]


def raise_glyph(glyph: list[np.ndarray], scale: float, lift: float) -> list[np.ndarray]:
    """A character of a raised exponent: ``scale`` times smaller with its baseline ``lift`` digit heights up."""
    return [stroke * scale - np.array([0.0, lift]) for stroke in glyph]


def _profile(strokes: list[np.ndarray], pens: list[float], side: int) -> np.ndarray:
    """Rightmost (``side=1``) or leftmost (``side=-1``) ink edge per horizontal band; inf where empty."""
    edge = np.full(PROFILE_BANDS, -np.inf)
    for stroke, pen in zip(strokes, pens, strict=True):
        dense = _densify(stroke, 0.02)
        bands = np.clip(((dense[:, 1] - PROFILE_TOP) / PROFILE_SPAN * PROFILE_BANDS).astype(int), 0, PROFILE_BANDS - 1)
        np.maximum.at(edge, bands, side * dense[:, 0] + pen / 2)
    return side * edge


def _densify(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """Insert points along a polyline so that neighbours are at most ``spacing`` apart."""
    segments = np.diff(stroke, axis=0)
    counts = np.maximum(1, np.ceil(np.linalg.norm(segments, axis=1) / spacing).astype(int))
    index = np.repeat(np.arange(len(segments)), counts)
    fraction = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(counts, counts)
    return np.vstack([stroke[index] + segments[index] * fraction[:, None], stroke[-1:]])


def _digit_strokes(digit: str, writer: Writer, rng: np.random.Generator) -> list[np.ndarray]:
    """One digit's trajectories: a template, jittered, scaled, rotated, slanted, traced and sampled."""
    variants = TEMPLATES[digit]
    index = (
        writer.styles[digit] if rng.random() < writer.consistency else _weighted_choice(rng, [w for w, _ in variants])
    )
    size = rng.normal(1.0, writer.size_wander)
    angle = np.deg2rad(rng.normal(0.0, 3.0))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    traced = []
    for stroke in variants[index][1]:
        points = stroke.points + rng.normal(0.0, writer.sloppiness, stroke.points.shape)
        points[:, 0] *= writer.aspect
        points = (points - [0.3, 0.5]) @ rotation.T + [0.3, 0.5]
        points *= size
        points[:, 0] += writer.slant * (1.0 - points[:, 1])
        curve = _pen_dynamics(_spline(points, stroke.corners), writer, rng)
        traced.append(_pen_positions(curve, writer, rng))
    return [t - [0.0, 1.0] for t in traced]


def trace_trajectory(points: np.ndarray, writer: Writer, rng: np.random.Generator) -> np.ndarray:
    """A smooth curve through sparse pen positions (centripetal Catmull-Rom), reported as a moving pointer would."""
    if len(points) == 1:
        points = np.vstack([points[0], points[0] + 1e-3])
    return _pen_positions(_catmull_rom(points, 8), writer, rng)


def _pen_dynamics(curve: np.ndarray, writer: Writer, rng: np.random.Generator) -> np.ndarray:
    """What a moving hand adds to a planned stroke: a run-on past its end, a hook or tick at either
    end, and now and then the end gone over again.
    """
    if len(curve) < 3:
        return curve
    run_on = rng.uniform(0.0, writer.overshoot)
    if run_on > 0:
        direction = curve[-1] - curve[-3]
        curve = np.vstack([curve, curve[-1] + run_on * direction / (np.linalg.norm(direction) + 1e-9)])
    for at_end in (True, False):
        if rng.random() < writer.hooks:
            curve = _hook(curve, at_end, rng)
    if rng.random() < writer.retrace:
        back = curve[-max(2, int(len(curve) * rng.uniform(0.15, 0.4))) :][::-1]
        curve = np.vstack([curve, back + rng.normal(0.0, 0.012, 2)])
    return curve


def _hook(curve: np.ndarray, at_end: bool, rng: np.random.Generator) -> np.ndarray:
    """Add a short curved tick (0.04-0.12 digit heights) turning off the stroke at one end."""
    end, before = (curve[-1], curve[-3]) if at_end else (curve[0], curve[2])
    direction = (end - before) / (np.linalg.norm(end - before) + 1e-9)
    turn = np.deg2rad(rng.choice([-1, 1]) * rng.uniform(90, 160))
    length = rng.uniform(0.04, 0.12)
    angles = np.linspace(0.0, turn, 5)[1:]
    steps = np.stack([np.cos(angles), np.sin(angles)], axis=1) @ np.array(
        [[direction[0], direction[1]], [-direction[1], direction[0]]]
    )
    tick = end + np.cumsum(steps * length / 4, axis=0)
    return np.vstack([curve, tick]) if at_end else np.vstack([tick[::-1], curve])


def _spline(points: np.ndarray, corners: tuple[int, ...], per_segment: int = 24) -> np.ndarray:
    """Trace centripetal Catmull-Rom pieces through ``points``, split at the corner indices."""
    cuts = sorted({0, len(points) - 1, *corners})
    pieces = [_catmull_rom(points[a : b + 1], per_segment) for a, b in itertools.pairwise(cuts)]
    return np.concatenate([pieces[0], *[p[1:] for p in pieces[1:]]])


def _catmull_rom(points: np.ndarray, per_segment: int) -> np.ndarray:
    """Centripetal Catmull-Rom spline through all ``points`` (no cusps or self-loops within a segment)."""
    if len(points) == 2:
        return np.linspace(points[0], points[1], per_segment)
    padded = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    p0, p1, p2, p3 = (padded[i : i + len(points) - 1, None, :] for i in range(4))  # (segments, 1, 2)
    knot = np.maximum(np.linalg.norm(np.diff(padded, axis=0), axis=1), 1e-6) ** 0.5
    t0 = np.zeros((len(points) - 1, 1, 1))
    t1 = t0 + knot[:-2, None, None]
    t2 = t1 + knot[1:-1, None, None]
    t3 = t2 + knot[2:, None, None]
    u = t1 + np.linspace(0.0, 1.0, per_segment)[1:, None] * (t2 - t1)  # (segments, per_segment - 1, 1)
    a1 = (t1 - u) / (t1 - t0) * p0 + (u - t0) / (t1 - t0) * p1
    a2 = (t2 - u) / (t2 - t1) * p1 + (u - t1) / (t2 - t1) * p2
    a3 = (t3 - u) / (t3 - t2) * p2 + (u - t2) / (t3 - t2) * p3
    b1 = (t2 - u) / (t2 - t0) * a1 + (u - t0) / (t2 - t0) * a2
    b2 = (t3 - u) / (t3 - t1) * a2 + (u - t1) / (t3 - t1) * a3
    curve = (t2 - u) / (t2 - t1) * b1 + (u - t1) / (t2 - t1) * b2
    return np.vstack([points[:1], curve.reshape(-1, 2)])


def _pen_positions(curve: np.ndarray, writer: Writer, rng: np.random.Generator) -> np.ndarray:
    """Resample a dense curve the way a pointer reports it: uneven steps (speed jitter) plus tremor."""
    lengths = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
    total = float(lengths[-1])
    steps = writer.step * rng.gamma(3.0, 1.0 / 3.0, size=int(total / writer.step * 2) + 4)
    stops = np.concatenate([[0.0], np.cumsum(steps)])
    stops = np.append(stops[stops < total], total)
    positions = np.stack([np.interp(stops, lengths, curve[:, 0]), np.interp(stops, lengths, curve[:, 1])], axis=1)
    return positions + rng.normal(0.0, writer.tremor, positions.shape)


def render(strokes: list[np.ndarray], widths: list[float], rng: np.random.Generator, pressure: bool) -> np.ndarray:
    """Draw the strokes with round caps and joins at 4x and downsample: dark ink on white, 40-80 px high."""
    top = min(float((s[:, 1]).min() - w / 2) for s, w in zip(strokes, widths, strict=True))
    bottom = max(float((s[:, 1]).max() + w / 2) for s, w in zip(strokes, widths, strict=True))
    left = min(float((s[:, 0]).min() - w / 2) for s, w in zip(strokes, widths, strict=True))
    right = max(float((s[:, 0]).max() + w / 2) for s, w in zip(strokes, widths, strict=True))
    height = int(rng.integers(HEIGHT_RANGE[0], HEIGHT_RANGE[1] + 1))
    scale = height * rng.uniform(0.55, 0.82) / (bottom - top)
    margin_top = rng.uniform(0.0, 1.0) * (height - (bottom - top) * scale)
    margin_left = (bottom - top) * scale * rng.uniform(0.08, 0.5)
    width = int(np.ceil((right - left) * scale + margin_left + (bottom - top) * scale * rng.uniform(0.08, 0.5)))
    big = np.zeros((height * SUPERSAMPLE, width * SUPERSAMPLE), np.uint8)
    factor = scale * SUPERSAMPLE
    offset = np.array([margin_left / scale - left, margin_top / scale - top])
    for stroke, pen in zip(strokes, widths, strict=True):
        pixels = np.round((stroke + offset) * factor * (1 << SHIFT_BITS)).astype(np.int32)
        thickness = max(1, round(pen * factor))
        if pressure and len(pixels) > 3:
            wave = 1.0 + 0.25 * np.sin(np.linspace(0, rng.uniform(2, 7), len(pixels) - 1) + rng.uniform(0, 6.3))
            for (a, b), w in zip(itertools.pairwise(pixels), wave, strict=True):
                cv2.line(big, tuple(a), tuple(b), 255, max(1, round(thickness * w)), cv2.LINE_AA, SHIFT_BITS)
        else:
            cv2.polylines(big, [pixels], False, 255, thickness, cv2.LINE_AA, SHIFT_BITS)
    ink = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)
    return 255 - ink


def canvas_export(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bare canvas export of a rendered number: black ink on white, or light ink on a dark canvas."""
    if rng.random() < 0.7:
        return image
    background = int(rng.integers(0, 48))
    ink = int(rng.integers(215, 256))
    alpha = (255 - image.astype(np.float32)) / 255.0
    return np.round(background + (ink - background) * alpha).astype(np.uint8)


def draw_as_canvas(
    strokes: list[np.ndarray],
    widths: list[float],
    writer: Writer,
    rng: np.random.Generator,
    clean_fraction: float,
    augment: Callable[..., dict],
) -> np.ndarray:
    """Render laid-out strokes as a canvas does: ``clean_fraction`` of them as a bare canvas export, the
    rest through ``augment`` (an albumentations pipeline). Returns a uint8 image.
    """
    image = render(strokes, widths, rng, writer.pressure)
    if rng.random() < clean_fraction:
        return canvas_export(image, rng)
    return augment(image=image)["image"]


Extras = Callable[[list[np.ndarray], list[float], float], tuple[list[np.ndarray], list[float]]]
"""Adds strokes to a laid-out number (its strokes, their widths, the writer's pen width), e.g. marks around it."""


def draw_number(text: str, rng: np.random.Generator, extras: Extras | None = None) -> np.ndarray:
    """Write ``text`` (any text over :data:`DRAWN`, see :func:`trace_number`) by a new writer, with the strokes
    ``extras`` adds; return the ink map (float32 in [0, 1], 1 = ink, 40-80 px high with margins).
    """
    writer = sample_writer(rng)
    strokes, widths = trace_number(text, writer, rng)
    if extras is not None:
        strokes, widths = extras(strokes, widths, writer.pen)
    return (255 - render(strokes, widths, rng, writer.pressure)).astype(np.float32) / 255.0
