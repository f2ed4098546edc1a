"""Marks that are not part of a number, drawn around it but kept out of its label.

Real amounts come with company: a currency sign or a ``#`` before them, a tick, bar or slash
that opens a field, a trailing ``=`` or ``/=``, an underline (or two) or a line above, and specks
where the pen touched the paper. A model that never saw them reads them as digits (a leading ``1``
or ``7``, a trailing ``0``, a spurious point). No decoration looks like a character of the alphabet
(:data:`models.charset.CHARSET`): a dash before or after the amount would be a minus sign, a
trailing ``,-`` a comma, so those are left to the labels that have them. :func:`decorate` adds
one or two of them to a number already laid out as pen trajectories (digit-height units, y = 0
on the baseline and up negative, as :func:`pipelines.common.data.pen.trace_number` returns them), a
clear gap away from the digits, so the image shows them and the label does not.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.common.data.pen import parse_template

# kind -> chance of being drawn (one decoration; a second one now and then, of another kind)
# An opener (bar, tick, slash) is rare: where it looks like a leading "1" it would teach the model to drop real ones.
KIND_WEIGHTS = {"symbol": 0.3, "opener": 0.06, "trailer": 0.24, "line": 0.22, "specks": 0.18}
SECOND_DECORATION = 0.2
GAP = (0.12, 0.4)  # space between a mark and the digits, in digit heights
SPECK_LIFT = 0.35  # specks over the number stay at least this far above its baseline
SPECK_OUTSIDE = 0.45  # or at least this far left or right of its ink
BODY_EXTENT = 0.35  # strokes at least this long or tall are digit bodies (not points or commas)

# symbol -> strokes in a unit box (x mostly 0..0.6, y 0 at the top and 1 on the baseline), written
# like the digit templates of pipelines.common.data.pen ("|" separates strokes); "€" and "*" are drawn
SYMBOL_TEXT = {
    "$": ".52,.2 .4,.06 .22,.04 .08,.16 .1,.36 .3,.48 .5,.6 .54,.82 .38,.96 .18,.96 .04,.84 | .31,-.12 .29,1.12",
    "£": ".56,.2 .5,.05 .34,0 .2,.1 .18,.35 .2,.65 .14,.88 .02,1 .15,.93 .35,.98 .6,.95 | .02,.55 .42,.53",
    "#": ".28,0 .18,1 | .52,0 .42,1 | .04,.33 .64,.32 | 0,.67 .6,.66",
}
SYMBOLS = {symbol: [stroke.points for stroke in parse_template(text)] for symbol, text in SYMBOL_TEXT.items()}
SYMBOL_WEIGHTS = {"$": 0.35, "€": 0.25, "£": 0.1, "#": 0.15, "*": 0.15}


@dataclass(frozen=True)
class _Number:
    """Where the number's ink is: its points (densified) with their half pen widths and its lines."""

    points: np.ndarray  # (n, 2) ink centres
    radii: np.ndarray  # (n,) half pen widths
    left: float  # leftmost ink edge
    right: float  # rightmost ink edge
    body: np.ndarray  # (m, 3) centres and half widths of the digit bodies' ink

    def bottom(self, x: float) -> float:
        """The baseline near ``x``: the lowest body ink edge within half a digit height."""
        return float(np.max(self._near(x)[:, 1] + self._near(x)[:, 2]))

    def top(self, x: float) -> float:
        """The top of the digits near ``x``: the highest body ink edge within half a digit height."""
        return float(np.min(self._near(x)[:, 1] - self._near(x)[:, 2]))

    def _near(self, x: float) -> np.ndarray:
        """Body ink within 0.5 digit heights of ``x`` (the nearest 10% of it when none is that close)."""
        distance = np.abs(self.body[:, 0] - x)
        near = self.body[distance < 0.5]
        return near if len(near) else self.body[distance <= np.quantile(distance, 0.1)]

    def edge(self, low: float, high: float, side: int) -> float:
        """The outermost ink edge (``side`` -1: left, 1: right) between heights ``low`` and ``high``."""
        band = (self.points[:, 1] + self.radii >= low) & (self.points[:, 1] - self.radii <= high)
        if not band.any():
            return self.left if side < 0 else self.right
        return float(np.max(side * self.points[band, 0] + self.radii[band])) * side


def decorate(
    strokes: list[np.ndarray], widths: list[float], pen: float, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[float]]:
    """Add marks that are not part of the number around already laid-out strokes (digit-height units,
    y = 0 baseline, up negative); return new lists.

    The original strokes come first and unchanged; one decoration (a second one in about one case
    in five) follows, drawn with about the writer's pen width ``pen``: a currency sign, ``#`` or
    ``*`` before the amount, a bar, tick or slash before it, a trailing ``=`` or ``/=``, one or two
    lines under the number (or one over it), or a few specks away from the baseline.
    """
    number = _locate(strokes, widths)
    kinds = list(KIND_WEIGHTS)
    weights = np.array([KIND_WEIGHTS[k] for k in kinds])
    chosen = rng.choice(
        kinds, size=2 if rng.random() < SECOND_DECORATION else 1, replace=False, p=weights / weights.sum()
    )
    if "symbol" in chosen and "opener" in chosen:  # one thing before the amount is enough
        chosen = [k for k in chosen if k != "opener"]
    added: list[np.ndarray] = []
    added_widths: list[float] = []
    for kind in chosen:
        marks, pens = DRAWERS[str(kind)](number, pen, rng)
        if kind != "specks":
            marks = _clear(marks, pens, number, kind, rng)
        added.extend(marks)
        added_widths.extend(pens)
        number = _locate([*strokes, *added], [*widths, *added_widths], body=number.body)
    return [*strokes, *added], [*widths, *added_widths]


DECORATION_STREAM = 104729
"""Appended to a sample's seed for the generator of its decorations, apart from the stream that draws the number."""


class Decorations:
    """Marks around a share (``fraction``) of the numbers a source draws, from a random stream of their own.

    Called as the pen writer's extras (:data:`pipelines.common.data.pen.Extras`). The choice and the marks
    draw only from this generator, seeded from ``(*seed, DECORATION_STREAM)``, and at fraction 0 nothing
    is drawn at all: a split without decorations is the same, sample for sample, as before they existed.
    """

    def __init__(self, fraction: float, seed: Sequence[int]) -> None:
        self.fraction = float(fraction)
        self.rng = np.random.default_rng([*seed, DECORATION_STREAM])

    def __call__(
        self, strokes: list[np.ndarray], widths: list[float], pen: float
    ) -> tuple[list[np.ndarray], list[float]]:
        """The strokes, with marks added around them for the chosen share of numbers."""
        if self.fraction > 0 and self.rng.random() < self.fraction:
            return decorate(strokes, widths, pen, self.rng)
        return strokes, widths


def _locate(strokes: list[np.ndarray], widths: list[float], body: np.ndarray | None = None) -> _Number:
    """Densify the ink and find the digit bodies (or keep the ``body`` already found)."""
    dense = [_densify(s, 0.02) for s in strokes]
    points = np.vstack(dense)
    radii = np.concatenate([np.full(len(d), w / 2) for d, w in zip(dense, widths, strict=True)])
    if body is None:
        tall = [np.ptp(s, axis=0).max() >= BODY_EXTENT for s in strokes]
        keep = np.concatenate([np.full(len(d), t) for d, t in zip(dense, tall, strict=True)])
        if not keep.any():
            keep[:] = True
        body = np.column_stack([points[keep], radii[keep]])
    return _Number(points, radii, float(np.min(points[:, 0] - radii)), float(np.max(points[:, 0] + radii)), body)


def _densify(stroke: np.ndarray, spacing: float) -> np.ndarray:
    """Insert points along a polyline so that neighbours are at most ``spacing`` apart."""
    if len(stroke) < 2:
        return stroke
    pieces = [stroke[:1]]
    for a, b in itertools.pairwise(stroke):
        count = max(1, int(np.ceil(np.linalg.norm(b - a) / spacing)))
        pieces.append(a + (b - a) * np.linspace(0.0, 1.0, count + 1)[1:, None])
    return np.vstack(pieces)


def _curve(points: np.ndarray, per_segment: int = 10) -> np.ndarray:
    """A uniform Catmull-Rom spline through ``points`` (two points: a straight, densified line)."""
    if len(points) == 2:
        return _densify(points, 0.03)
    padded = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    pieces = []
    for i in range(len(points) - 1):
        p0, p1, p2, p3 = padded[i : i + 4]
        pieces.append(
            0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
        )
    return np.vstack([*pieces, points[-1:]])


def _symbol_strokes(symbol: str, rng: np.random.Generator) -> list[np.ndarray]:
    """A symbol's strokes in a unit box (y 0 at the top, 1 on the baseline), jittered and traced."""
    if symbol == "€":
        angles = np.deg2rad(np.linspace(rng.uniform(35, 55), rng.uniform(305, 325), 9))
        arc = np.stack([0.4 + 0.36 * np.cos(angles), 0.5 - 0.5 * np.sin(angles)], axis=1)
        low = rng.uniform(0.56, 0.64)
        templates = [arc, np.array([[-0.02, low - 0.2], [0.46, low - 0.21]]), np.array([[-0.02, low], [0.42, low]])]
    elif symbol == "*":
        turn = rng.uniform(0.0, np.pi / 3)
        templates = [
            np.array([[0.3 + 0.3 * np.cos(a), 0.5 + 0.5 * np.sin(a)], [0.3 - 0.3 * np.cos(a), 0.5 - 0.5 * np.sin(a)]])
            for a in turn + np.arange(3) * np.pi / 3
        ]
    else:
        templates = SYMBOLS[symbol]
    return [_curve(t + rng.normal(0.0, 0.02, t.shape)) for t in templates]


def _place(
    strokes: list[np.ndarray], height: float, slant: float, x: float, bottom: float, anchor: str
) -> list[np.ndarray]:
    """Scale unit-box strokes to ``height``, slant them and put their bottom at ``bottom`` with their
    right (``anchor`` "right") or left ink edge at ``x``.
    """
    placed = []
    for stroke in strokes:
        points = stroke * height
        points[:, 0] += slant * (height - points[:, 1])
        placed.append(points + np.array([0.0, bottom - height]))
    xs = np.concatenate([p[:, 0] for p in placed])
    shift = x - (xs.max() if anchor == "right" else xs.min())
    return [p + np.array([shift, 0.0]) for p in placed]


def _symbol(number: _Number, pen: float, rng: np.random.Generator) -> tuple[list[np.ndarray], list[float]]:
    """A currency sign, ``#`` or ``*`` before the amount, about a digit high (a ``*`` smaller, raised)."""
    names = list(SYMBOL_WEIGHTS)
    weights = np.array([SYMBOL_WEIGHTS[n] for n in names])
    symbol = str(rng.choice(names, p=weights / weights.sum()))
    bottom, top = number.bottom(number.left), number.top(number.left)
    height = (bottom - top) * rng.uniform(0.8, 1.1)
    lift = rng.uniform(-0.04, 0.06)
    if symbol == "*":
        height *= rng.uniform(0.4, 0.6)
        lift = (bottom - top) * rng.uniform(0.35, 0.5)
    marks = _symbol_strokes(symbol, rng)
    gap = rng.uniform(*GAP) + pen
    edge = number.edge(bottom - lift - height, bottom - lift, -1)
    marks = _place(marks, height, rng.normal(0.12, 0.08), edge - gap, bottom - lift, "right")
    return marks, [pen * rng.uniform(0.85, 1.15)] * len(marks)


def _opener(number: _Number, pen: float, rng: np.random.Generator) -> tuple[list[np.ndarray], list[float]]:
    """A line before the amount: a bar through the baseline, a short floating tick or a long slash (never a
    dash at mid height: that is a minus sign).
    """
    bottom, top = number.bottom(number.left), number.top(number.left)
    height = bottom - top
    kind = rng.choice(["bar", "tick", "slash"], p=[0.45, 0.35, 0.2])
    if kind == "bar":  # taller than a digit, reaching below the baseline
        line = np.array(
            [[0.0, top - height * rng.uniform(0.15, 0.35)], [0.0, bottom + height * rng.uniform(0.25, 0.45)]]
        )
        line[0, 0] += rng.normal(0.08, 0.06) * height
    elif kind == "tick":  # a short stroke floating at mid-height, too short for a 1
        mid = bottom - height * rng.uniform(0.45, 0.65)
        half = height * rng.uniform(0.08, 0.16)
        line = np.array([[rng.uniform(0.0, 0.12) * height, mid - half], [0.0, mid + half]])
    else:  # a slash from below the baseline to above the top
        line = _slash(bottom, top, rng)
    line = line + rng.normal(0.0, 0.01, line.shape)
    gap = rng.uniform(0.3, 0.6) + pen if kind in ("bar", "tick") else rng.uniform(*GAP) + pen
    edge = number.edge(float(line[:, 1].min()), float(line[:, 1].max()), -1)
    return [_curve(line + np.array([edge - gap - line[:, 0].max(), 0.0]))], [pen * rng.uniform(0.85, 1.15)]


def _slash(bottom: float, top: float, rng: np.random.Generator) -> np.ndarray:
    """A long slash from below the baseline to about the top of the digits, its left end at x = 0."""
    height = bottom - top
    return np.array(
        [
            [0.0, bottom + height * rng.uniform(0.1, 0.3)],
            [height * rng.uniform(0.35, 0.6), top - height * rng.uniform(0.0, 0.2)],
        ]
    )


def _trailer(number: _Number, pen: float, rng: np.random.Generator) -> tuple[list[np.ndarray], list[float]]:
    """After the amount: ``=`` at mid-height, or ``/=`` (a slash, then the ``=``). Never a lone dash or a
    ``,-``: those are a minus sign and a comma.
    """
    bottom, top = number.bottom(number.right), number.top(number.right)
    height = bottom - top
    kind = rng.choice(["=", "/="], p=[0.6, 0.4])
    mid = bottom - height * rng.uniform(0.35, 0.55)
    length = height * rng.uniform(0.3, 0.7)
    marks: list[np.ndarray] = []
    pens: list[float] = []
    x = 0.0
    if kind == "/=":
        slash = _slash(bottom, top, rng)
        marks.append(_curve(slash))
        pens.append(pen * rng.uniform(0.85, 1.15))
        x = float(slash[:, 0].max()) * rng.uniform(0.85, 1.1)  # the bars start about under the slash's top
    dash = np.array([[x, mid], [x + length, mid + rng.normal(0.0, 0.04)]])
    spread = height * rng.uniform(0.08, 0.14)
    marks += [_curve(dash - np.array([0.0, spread])), _curve(dash + np.array([rng.normal(0.0, 0.04), spread]))]
    pens += [pen * rng.uniform(0.85, 1.15)] * 2
    low = min(float(m[:, 1].min()) for m in marks)
    high = max(float(m[:, 1].max()) for m in marks)
    edge = number.edge(low, high, 1)
    start = min(float((m[:, 0] - w / 2).min()) for m, w in zip(marks, pens, strict=True))
    gap = rng.uniform(*GAP)
    return [m + np.array([edge + gap - start, 0.0]) for m in marks], pens


def _line(number: _Number, pen: float, rng: np.random.Generator) -> tuple[list[np.ndarray], list[float]]:
    """One or two lines under the number (following its baseline, a little slanted or bent), or one over it."""
    over = rng.random() < 0.2
    double = not over and rng.random() < 0.3
    start = number.left - rng.uniform(0.0, 0.3)
    end = number.right + rng.uniform(0.0, 0.35)
    xs = np.linspace(start, end, max(3, int((end - start) / 0.4) + 2))
    follow = np.array([number.top(x) if over else number.bottom(x) for x in xs])
    follow = np.convolve(np.pad(follow, 1, mode="edge"), np.ones(3) / 3, mode="valid")  # smooth the digits' wander
    tilt = float(np.clip(rng.normal(0.0, 0.03), -0.07, 0.07)) * (xs - xs.mean())
    gap = rng.uniform(0.0, 0.06) if not over and rng.random() < 0.2 else rng.uniform(0.1, 0.3)
    ys = follow + (-1 if over else 1) * (gap + pen) + tilt + rng.normal(0.0, 0.012, len(xs))
    marks = [_curve(np.stack([xs, ys], axis=1))]
    if double:
        below = rng.uniform(0.08, 0.16)
        cut = rng.uniform(0.0, 0.15, 2) * (end - start)
        second = np.stack([xs, ys + below + rng.normal(0.0, 0.01, len(xs))], axis=1)
        second = second[(xs >= start + cut[0]) & (xs <= end - cut[1])]
        if len(second) >= 2:
            marks.append(_curve(second))
    return marks, [pen * rng.uniform(0.85, 1.15) for _ in marks]


def _specks(number: _Number, pen: float, rng: np.random.Generator) -> tuple[list[np.ndarray], list[float]]:
    """One to three tiny dots where the pen touched: above the digits, high between them, below the
    number or well beside it, never near the baseline next to a digit (that would be a decimal point).
    """
    marks: list[np.ndarray] = []
    pens: list[float] = []
    ink, radii = number.points, number.radii
    for _ in range(int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))):
        width = pen * rng.uniform(0.6, 1.2)
        for _attempt in range(30):
            where = rng.choice(["above", "between", "below", "beside"], p=[0.35, 0.3, 0.15, 0.2])
            if where == "beside":
                x = (
                    number.left - rng.uniform(SPECK_OUTSIDE, 1.0)
                    if rng.random() < 0.5
                    else number.right + rng.uniform(SPECK_OUTSIDE, 1.0)
                )
                anchor = number.left if x < number.left else number.right
                bottom, top = number.bottom(anchor), number.top(anchor)
                high = rng.random() < 0.75  # a dot level with the baseline would read as a point
                if high and top - 0.3 >= bottom - SPECK_LIFT - width / 2:
                    continue  # no room above the baseline here (beside a point or a comma)
                y = rng.uniform(top - 0.3, bottom - SPECK_LIFT - width / 2) if high else bottom + rng.uniform(0.3, 0.5)
            else:
                x = rng.uniform(number.left, number.right)
                bottom, top = number.bottom(x), number.top(x)
                if where == "above":
                    y = top - rng.uniform(0.1, 0.45)
                elif where == "between":
                    if top + 0.05 >= bottom - SPECK_LIFT - width / 2:
                        continue  # no room between the top and the baseline here (over a point or a comma)
                    y = rng.uniform(top + 0.05, bottom - SPECK_LIFT - width / 2)
                else:
                    y = bottom + rng.uniform(0.3, 0.6)
            speck = np.array([[x, y], [x + rng.normal(0.0, 0.006), y + rng.normal(0.0, 0.006)]])
            clearance = np.linalg.norm(ink - speck[0], axis=1) - radii - width / 2
            if clearance.min() >= 0.1:
                marks.append(speck)
                pens.append(width)
                ink = np.vstack([ink, speck])
                radii = np.append(radii, [width / 2] * 2)
                break
    return marks, pens


def _clear(
    marks: list[np.ndarray], pens: list[float], number: _Number, kind: str, rng: np.random.Generator
) -> list[np.ndarray]:
    """Move marks away from the digits (left before, right after, down under, up over) until they
    keep at least the minimum gap; underlines may touch.
    """
    if not marks:
        return marks
    centre = np.mean([m.mean(axis=0) for m in marks], axis=0)
    if kind == "line":
        direction = np.array([0.0, 1.0 if centre[1] > number.bottom(float(centre[0])) - 0.5 else -1.0])
        minimum = -0.02 if direction[1] > 0 else 0.08
    else:
        direction = np.array([-1.0 if kind in ("symbol", "opener") else 1.0, 0.0])
        minimum = 0.08
    for _ in range(20):
        distance = min(_distance(m, w, number) for m, w in zip(marks, pens, strict=True))
        if distance >= minimum:
            break
        marks = [m + direction * (minimum - distance + 0.02) for m in marks]
    return marks


def _distance(mark: np.ndarray, width: float, number: _Number) -> float:
    """The smallest gap between a mark's ink and the number's ink."""
    dense = _densify(mark, 0.02)
    gaps = np.linalg.norm(dense[:, None, :] - number.points[None, :, :], axis=2) - number.radii[None, :] - width / 2
    return float(gaps.min())


DRAWERS: dict[str, Callable[[_Number, float, np.random.Generator], tuple[list[np.ndarray], list[float]]]] = {
    "symbol": _symbol,
    "opener": _opener,
    "trailer": _trailer,
    "line": _line,
    "specks": _specks,
}
