"""A phone-photo stand-in: the handwritten number on a page of paper, with other marks around it.

The paper is light grey with uneven lighting and sensor-like noise; around the number lie the
things a photo of a page holds (other numbers, ruled lines, a blot), so reading the whole photo
is not the same as reading the number: only a box around it is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tests.drawing import draw_number
from tests.e2e.handwriting import CANVAS_INK, CANVAS_PEN_PX, Strokes

PHOTO_SIZE = (1200, 900)


@dataclass(frozen=True)
class Photo:
    """The photo as JPEG bytes, the decoded picture, and where the number is (left, top, right, bottom)."""

    jpeg: bytes
    image: Image.Image
    number_box: tuple[int, int, int, int]


def _paper(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Light paper lit from one side, with a little noise."""
    width, height = size
    x = np.linspace(0.0, 1.0, width)[None, :]
    y = np.linspace(0.0, 1.0, height)[:, None]
    light = 222 + 20 * x - 14 * y
    grey = light + rng.normal(0.0, 3.0, size=(height, width))
    channels = [np.clip(grey + shift, 0, 255) for shift in (4, 0, -8)]
    return Image.fromarray(np.stack(channels, axis=-1).astype(np.uint8), "RGB")


def _clutter(photo: Image.Image, keep_clear: tuple[int, int, int, int]) -> None:
    """Other numbers, ruled lines and a blot, all outside ``keep_clear``."""
    pen = ImageDraw.Draw(photo)
    width, height = photo.size
    left, top, right, bottom = keep_clear
    for row in range(40, height, 110):
        if not top - 20 <= row <= bottom + 20:
            pen.line((0, row, width, row + 6), fill=(150, 160, 190), width=3)
    for text, corner in (("905", (40, 30)), ("17", (width - 260, height - 190)), ("3", (60, height - 230))):
        mark = draw_number(text, height=110, mode="RGB").convert("L")
        ink = Image.new("RGB", mark.size, (40, 40, 70))
        cx, cy = corner
        if not (cx + mark.width < left or cx > right or cy + mark.height < top or cy > bottom):
            continue
        photo.paste(ink, corner, mask=mark.point(lambda value: 255 - value))
    blot = (width - 170, 60, width - 60, 150)
    if blot[0] > right or blot[3] < top:
        pen.ellipse(blot, fill=(60, 50, 80))


def photo_with_number(
    strokes: Strokes, at: tuple[int, int], height: int = 200, seed: int = 7, size: tuple[int, int] = PHOTO_SIZE
) -> Photo:
    """A ``size`` photo with ``strokes`` written ``height`` px high, their box's top-left corner at ``at``."""
    rng = np.random.default_rng(seed)
    photo = _paper(size, rng)
    pen_px = round(CANVAS_PEN_PX * height / 150)
    left, top = at
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    half = pen_px // 2 + 1
    number_box = (
        round(left + min(xs) * height) - half,
        round(top + min(ys) * height) - half,
        round(left + max(xs) * height) + half,
        round(top + max(ys) * height) + half,
    )
    _clutter(photo, number_box)
    pen = ImageDraw.Draw(photo)
    for stroke in strokes:
        points = [(left + x * height, top + y * height) for x, y in stroke]
        pen.line(points, fill=CANVAS_INK, width=pen_px, joint="curve")
        for x, y in (points[0], points[-1]):
            pen.ellipse((x - pen_px / 2, y - pen_px / 2, x + pen_px / 2, y + pen_px / 2), fill=CANVAS_INK)
    photo = photo.filter(ImageFilter.GaussianBlur(0.8))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=88)
    jpeg = buffer.getvalue()
    return Photo(jpeg=jpeg, image=Image.open(io.BytesIO(jpeg)).convert("RGB"), number_box=number_box)
