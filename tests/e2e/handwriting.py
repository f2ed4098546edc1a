"""The numbers "42" and "4.2" as a person writes them, stroke by stroke, and the picture the page's canvas makes of it.

The strokes are point lists in a box one unit high (x right, y down). The browser tests draw
them with the mouse or a finger; :func:`render_strokes` draws the same path the way the page's
canvas does (dark ink on white, round caps and joins, the page's default pen width), so the
upload, drop and paste tests send a picture the page itself would have produced.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

Strokes = list[list[tuple[float, float]]]

FOUR: Strokes = [
    [(0.36, 0.0), (0.02, 0.62), (0.6, 0.62)],
    [(0.44, 0.18), (0.44, 1.0)],
]
TWO_TOP = [
    (1.05 + 0.26 * math.cos(math.radians(a)), 0.3 - 0.28 * math.sin(math.radians(a))) for a in range(160, -50, -15)
]
TWO: Strokes = [[*TWO_TOP, (0.82, 1.0), (1.38, 1.0)]]
FORTY_TWO: Strokes = FOUR + TWO
POINT: Strokes = [  # a small blob on the baseline, after the 4
    [(0.8 + 0.025 * math.cos(math.radians(a)), 0.97 + 0.025 * math.sin(math.radians(a))) for a in range(0, 361, 45)]
]
FOUR_POINT_TWO: Strokes = FOUR + POINT + [[(x + 0.35, y) for x, y in stroke] for stroke in TWO]

CANVAS_INK = (17, 24, 39)  # the page's ink colour, #111827
CANVAS_PEN_PX = 14  # the page's default stroke width


def render_strokes(
    strokes: Strokes,
    height: float = 150,
    pen: int = CANVAS_PEN_PX,
    margin: int = 60,
    size: tuple[int, int] = (640, 256),
) -> Image.Image:
    """Draw ``strokes`` ``height`` pixels high on a white canvas-sized RGB picture, as the page's canvas draws them."""
    picture = Image.new("RGB", size, (255, 255, 255))
    pen_tip = ImageDraw.Draw(picture)
    top = (size[1] - height) / 2
    for stroke in strokes:
        points = [(margin + x * height, top + y * height) for x, y in stroke]
        pen_tip.line(points, fill=CANVAS_INK, width=pen, joint="curve")
        for x, y in (points[0], points[-1]):
            pen_tip.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=CANVAS_INK)
    return picture
