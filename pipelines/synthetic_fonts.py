"""Stage ``synthetic_fonts``: numbers typeset in handwriting-style fonts, augmented to look written.

Each sample is a number from :func:`pipelines.common.data.number_text.sample_number` drawn glyph by
glyph in a random font from ``node_modules/@fontsource`` (installed by ``npm ci`` from the
repository's package.json) with random size, letter spacing (down to slightly
overlapping glyphs), baseline jitter and slant, then passed through the shared augmenter
(ink colour, paper or canvas, polarity, blur, noise, compression).

Font split: when there are enough fonts (at least ``heldout_fonts.val + heldout_fonts.test``
plus 4 for training), val and test are drawn in fonts that train never sees, so their
scores measure generalisation to new handwriting styles; with fewer fonts every split uses
all of them (logged as a warning). The split is written to ``<output_dir>/fonts.json``.

Writes ``<output_dir>/{train,val,test}/`` labelled folders (grey PNGs, 40-80 px high).
Generation runs in ``workers`` processes over fixed-size chunks, each seeded from
``(seed, split, chunk)``, so the output depends only on the parameters.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models.number_value import RAISED, TIMES
from pipelines.common.data.augment import build_augmenter
from pipelines.common.data.number_text import text_for
from pipelines.common.data.splits import SPLITS, Chunk, Generated, settings_by_split, write_splits
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.synthetic_fonts")

SECTION = "synthetic_fonts"
GLYPHS = "0123456789.,-+e"
"""Every usable font draws these; ``×`` is drawn as the font's ``x``, smaller, where a font lacks it."""
TIMES_FALLBACK = ("x", 0.8)  # the glyph and its size drawn for a missing ``×``, centred at half the digit height
RAISED_SCALE = (0.55, 0.7)  # a raised exponent's size, of the em
RAISED_LIFT = (0.5, 0.8)  # its baseline above the main one, in digit heights
FONT_GLOB = "*/files/*-latin-400-normal.woff"
MIN_TRAIN_FONTS = 4
HEIGHT_RANGE = (40, 80)


def find_fonts(fonts_dir: str | Path) -> list[Path]:
    """Return the usable latin 400-weight ``.woff`` fonts under ``fonts_dir``, sorted by name.

    A font is skipped (with a warning) when any of :data:`GLYPHS` renders empty or the
    digits all render the same box (a missing-glyph "tofu"). A missing ``×`` is drawn by
    :func:`glyph_for` instead.
    """
    fonts = []
    for path in sorted(Path(fonts_dir).glob(FONT_GLOB)):
        problem = font_problem(path)
        if problem:
            log.warning("skipping font %s: %s", path.name, problem)
        else:
            fonts.append(path)
    return fonts


def font_problem(path: Path) -> str:
    """Return why ``path`` cannot draw our glyphs, or an empty string when it can."""
    try:
        font = ImageFont.truetype(str(path), 48)
    except OSError as exc:
        return f"not loadable ({exc})"
    masks = {}
    for char in GLYPHS:
        mask = font.getmask(char)
        if mask.getbbox() is None:
            return f"glyph {char!r} is empty"
        masks[char] = bytes(mask)
    if len({masks[c] for c in "0123456789"}) < 10:
        return "some digits render identically (missing glyphs)"
    return ""


def split_fonts(fonts: list[Path], heldout: dict[str, int], seed: int) -> dict[str, list[Path]]:
    """Assign fonts to splits: held-out fonts for val and test when there are enough, else all fonts everywhere."""
    n_val, n_test = int(heldout.get("val", 0)), int(heldout.get("test", 0))
    if len(fonts) < n_val + n_test + MIN_TRAIN_FONTS or n_val + n_test == 0:
        log.warning("only %d fonts: val and test share the training fonts", len(fonts))
        return {split: list(fonts) for split in SPLITS}
    order = np.random.default_rng(seed).permutation(len(fonts))
    shuffled = [fonts[i] for i in order]
    return {
        "test": sorted(shuffled[:n_test]),
        "val": sorted(shuffled[n_test : n_test + n_val]),
        "train": sorted(shuffled[n_test + n_val :]),
    }


@lru_cache(maxsize=512)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """Load a font at a pixel size once per process."""
    return ImageFont.truetype(path, size)


@lru_cache(maxsize=256)
def has_glyph(path: str, char: str) -> bool:
    """Whether the font draws ``char`` as ink of its own (not empty, not its missing-glyph box)."""
    font = _font(path, 48)
    mask = font.getmask(char)
    return mask.getbbox() is not None and bytes(mask) != bytes(font.getmask("\uffff"))


def glyph_for(path: str, char: str, size: int) -> tuple[str, ImageFont.FreeTypeFont, float]:
    """What to draw for ``char`` at ``size`` px in a font: the glyph, the font and a shift down from the baseline.

    Every glyph is drawn as itself, except a ``×`` the font lacks: then its ``x`` at
    :data:`TIMES_FALLBACK` of the size, centred at half the height of its ``0`` (deterministic).
    """
    if char != TIMES or has_glyph(path, TIMES):
        return char, _font(path, size), 0.0
    glyph, scale = TIMES_FALLBACK
    font = _font(path, max(8, round(size * scale)))
    digit_top = _font(path, size).getbbox("0", anchor="ls")[1]
    _, top, _, bottom = font.getbbox(glyph, anchor="ls")
    return glyph, font, digit_top / 2 - (top + bottom) / 2


def render_number(text: str, font_path: str, rng: np.random.Generator) -> np.ndarray:
    """Draw ``text`` in one font with handwriting-like irregularity: dark ink on white, uint8 grey.

    ``text`` is any text over the alphabet ``0-9 . , - + e × ^``: the part after ``^`` (which is not
    drawn) is a raised exponent, :data:`RAISED_SCALE` of the size with its baseline
    :data:`RAISED_LIFT` digit heights higher. Glyphs get their own size, spacing and baseline
    offsets; the whole is slanted, cropped to the ink and scaled to a height of 40-80 px with
    random margins. A text of digits and ``.`` draws as before the wider alphabet (the same draws).
    """
    em = int(rng.integers(56, 97))
    spacing = rng.uniform(-0.12, 0.15) * em
    drift = rng.normal(0.0, 0.015) * em
    width = int(em * (1.2 * len(text) + 2))
    canvas = Image.new("L", (width, 3 * em), 0)
    draw = ImageDraw.Draw(canvas)
    x, baseline = float(em), 2.0 * em
    size, line = 1.0, 0.0  # the size (of the em) and the lift (px) of the current glyphs; raised after "^"
    for position, char in enumerate(text):
        if char == RAISED:
            digit_height = -_font(font_path, em).getbbox("0", anchor="ls")[1]
            size, line = rng.uniform(*RAISED_SCALE), rng.uniform(*RAISED_LIFT) * digit_height
            continue
        scale = rng.uniform(0.8, 1.3) if char == "." else rng.normal(1.0, 0.05)
        glyph, font, shift = glyph_for(font_path, char, max(8, round(em * scale * size)))
        y = baseline - line + drift * position + rng.normal(0.0, 0.03) * em * size
        draw.text((x, y + shift), glyph, font=font, fill=255, anchor="ls")
        x += font.getlength(glyph) + spacing * size + rng.normal(0.0, 0.04) * em * size
    ink = _slant(canvas, rng.uniform(-0.2, 0.35), baseline)
    return _frame(ink, rng)


def _slant(ink: Image.Image, shear: float, baseline: float) -> Image.Image:
    """Crop the ink and shear it horizontally (positive leans right) about the baseline."""
    box = ink.getbbox()
    if box is None:
        raise ValueError("the number rendered no ink")
    ink = ink.crop(box)
    baseline -= box[1]
    offset = max(shear * (0.0 - baseline), shear * (ink.height - baseline))
    size = (ink.width + int(np.ceil(abs(shear) * ink.height)) + 2, ink.height)
    coefficients = (1.0, shear, -shear * baseline - offset, 0.0, 1.0, 0.0)
    return ink.transform(size, Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR)


def _frame(ink: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """Crop ``ink`` (white on black) to its bounding box, scale and pad it; return dark ink on white."""
    box = ink.getbbox()
    if box is None:
        raise ValueError("the number rendered no ink")
    ink = ink.crop(box)
    height = int(rng.integers(HEIGHT_RANGE[0], HEIGHT_RANGE[1] + 1))
    ink_height = max(8, round(height * rng.uniform(0.55, 0.8)))
    ink_width = max(1, round(ink.width * ink_height / ink.height))
    ink = ink.resize((ink_width, ink_height), Image.Resampling.LANCZOS)
    top = int(rng.integers(0, height - ink_height + 1))
    left, right = (round(ink_height * rng.uniform(0.1, 0.6)) for _ in range(2))
    framed = Image.new("L", (left + ink_width + right, height), 0)
    framed.paste(ink, (left, top))
    return 255 - np.asarray(framed)


def generate_chunk(chunk: Chunk) -> list[Generated]:
    """Render and augment one chunk; ``chunk.settings`` is ``(params, fonts of the split)``."""
    params, fonts = chunk.settings
    rng = np.random.default_rng([int(params["seed"]), chunk.split_index, chunk.chunk_index])
    augment = build_augmenter(float(params["augment_strength"]), int(rng.integers(2**31)))
    samples = []
    for _ in range(chunk.count):
        label = text_for(rng, params)
        font = fonts[int(rng.integers(len(fonts)))]
        samples.append(Generated(augment(image=render_number(label, font, rng))["image"], label))
    return samples


def generate(params: dict[str, Any]) -> dict[str, int]:
    """Run the stage with its parameter section; return the number of samples written per split."""
    fonts = find_fonts(params["fonts_dir"])
    if not fonts:
        raise SystemExit(
            f"error: no usable fonts under {params['fonts_dir']}: "
            "run `npm ci --no-audit --no-fund` at the repository root"
        )
    by_split = split_fonts(fonts, params.get("heldout_fonts", {}), int(params["seed"]))
    output = Path(params["output_dir"])
    output.mkdir(parents=True, exist_ok=True)
    plain_test = settings_by_split(params)
    settings = {split: (plain_test[split], tuple(str(f) for f in by_split[split])) for split in SPLITS}
    written = write_splits(output, params["counts"], generate_chunk, settings, max(1, int(params.get("workers", 2))))
    log.info("fonts per split: %s", {split: len(by_split[split]) for split in SPLITS})
    names = {split: [_font_name(f) for f in by_split[split]] for split in SPLITS}
    (output / "fonts.json").write_text(json.dumps(names, indent=2) + "\n", encoding="utf-8")
    return written


def _font_name(path: Path) -> str:
    """Return the Fontsource package name of a font file (``caveat`` for ``caveat/files/caveat-...woff``)."""
    return path.parent.parent.name


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m pipelines.synthetic_fonts [--params params.yaml]``."""
    params, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    generate(params)


if __name__ == "__main__":
    main()
