"""Augmentation, in two places: when a data source draws its images, and when training reads them.

The renderers draw dark ink on a plain white background; :func:`build_augmenter` turns
that into what users send: a slightly warped, re-inked number on a canvas or a sheet of
paper, in either polarity, blurred, noisy and JPEG-compressed now and then. ``strength``
scales every magnitude and probability (0 = no change, 1 = the strongest we still read
without doubt). Input and output are uint8 numpy images, grey ``(H, W)`` or RGB
``(H, W, 3)``; the output keeps the input's layout (the size may grow a little where a
rotation needs room).

Usage::

    augment = build_augmenter(0.7, seed=1)
    out = augment(image=ink_on_white)["image"]

:func:`build_jitter` is the training-time half: it redraws the geometry of an image already
through ``models.preprocess.normalize`` (ink high, ``TARGET_HEIGHT`` rows), so every epoch
sees each stored image slanted, stretched and inked a little differently.
Both halves share their transforms, so the module stays whole in :mod:`pipelines.common.data`
(augmentation makes images) and :mod:`pipelines.common.training.packed_data` imports the jitter
from here.
"""

from __future__ import annotations

from typing import Any

import albumentations as A  # noqa: N812 (the library's documented alias)
import cv2
import numpy as np

from models.preprocess import MAX_WIDTH, MIN_WIDTH, WIDTH_MULTIPLE

WHITE = 255


def build_augmenter(
    strength: float,
    seed: int | None,
    *,
    paper_fraction: float = 0.5,
    dark_fraction: float = 0.3,
) -> A.Compose:
    """Build the augmentation pipeline for renderer output (dark ink on white).

    ``strength`` (0..1) scales warps, blur, noise and compression; ``seed`` makes the
    sequence of outputs reproducible. ``paper_fraction`` is the share of textured paper
    backgrounds (the rest are flat, canvas-like), ``dark_fraction`` the share of light ink
    on a dark background.
    """
    s = float(np.clip(strength, 0.0, 1.5))
    if s == 0.0:
        return _seeded(A.Compose([]), seed)
    transforms = [
        A.Affine(
            rotate=(-4 * s, 4 * s),
            shear={"x": (-6 * s, 6 * s), "y": (-2 * s, 2 * s)},
            scale={"x": (1 - 0.12 * s, 1 + 0.12 * s), "y": (1 - 0.05 * s, 1 + 0.05 * s)},
            fit_output=True,
            border_mode=cv2.BORDER_CONSTANT,
            fill=WHITE,
            p=0.7 * min(s, 1.0),
        ),
        A.Perspective(scale=(0.01, 0.035 * s), fit_output=True, border_mode=cv2.BORDER_CONSTANT, fill=WHITE, p=0.3 * s),
        ElasticInk(magnitude=s, p=0.35 * min(s, 1.0)),
        StrokeWidth(p=0.5 * min(s, 1.0)),
        Paper(paper_fraction=paper_fraction, dark_fraction=dark_fraction, strength=s, p=1.0),
        A.OneOf(
            [
                A.GaussianBlur(blur_limit=(3, 5), sigma_limit=(0.3, 0.3 + 0.9 * s)),
                A.MotionBlur(blur_limit=(3, 3)),
                A.Downscale(
                    scale_range=(max(0.35, 1 - 0.5 * s), 0.9),
                    interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": cv2.INTER_LINEAR},
                ),
            ],
            p=0.45 * min(s, 1.0),
        ),
        A.GaussNoise(std_range=(0.005, 0.005 + 0.045 * s), per_channel=False, p=0.4 * min(s, 1.0)),
        A.RandomBrightnessContrast(brightness_limit=0.08 * s, contrast_limit=(-0.25 * s, 0.1 * s), p=0.4 * min(s, 1.0)),
        A.ImageCompression(quality_range=(max(20, int(90 - 60 * s)), 95), p=0.35 * min(s, 1.0)),
    ]
    return _seeded(A.Compose(transforms), seed)


def build_jitter(strength: float, seed: int | None) -> A.Compose:
    """Build the training-time jitter for normalized images (uint8, ink 255 on 0, fixed height).

    Width stretch, slant, a small rotation and vertical shift, a gentle elastic warp and one
    pixel more or less of stroke, each scaled by ``strength`` (0 = no change). The height
    stays; the width changes with the stretch and stays a multiple of ``WIDTH_MULTIPLE``.
    """
    s = float(np.clip(strength, 0.0, 1.5))
    if s == 0.0:
        return _seeded(A.Compose([]), seed)
    transforms = [
        WidthStretch(limit=0.15 * s, p=1.0),
        A.Affine(
            rotate=(-3 * s, 3 * s),
            shear={"x": (-12 * s, 12 * s), "y": (0, 0)},
            scale={"x": (1, 1), "y": (1 - 0.1 * s, 1 + 0.03 * s)},
            translate_percent={"x": (0, 0), "y": (-0.04 * s, 0.04 * s)},
            border_mode=cv2.BORDER_CONSTANT,
            fill=0,
            p=0.7,
        ),
        A.ElasticTransform(alpha=6 * s, sigma=3, border_mode=cv2.BORDER_CONSTANT, fill=0, p=0.3),
        A.OneOf(
            [A.Morphological(scale=(2, 2), operation="dilation"), A.Morphological(scale=(2, 2), operation="erosion")],
            p=0.3,
        ),
    ]
    return _seeded(A.Compose(transforms), seed)


class WidthStretch(A.ImageOnlyTransform):
    """Stretch or squeeze the width by up to ``limit`` (log scale), keeping the height and the width's multiple."""

    def __init__(self, limit: float = 0.15, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.limit = limit

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        """Resize to a random width near the original (a multiple of ``WIDTH_MULTIPLE``)."""
        factor = float(np.exp(self.random_generator.uniform(-self.limit, self.limit)))
        width = round(img.shape[1] * factor / WIDTH_MULTIPLE) * WIDTH_MULTIPLE
        width = int(np.clip(width, MIN_WIDTH, MAX_WIDTH))
        if width == img.shape[1]:
            return img
        return cv2.resize(img, (width, img.shape[0]), interpolation=cv2.INTER_LINEAR)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        """Arguments albumentations serialises."""
        return ("limit",)


def _seeded(compose: A.Compose, seed: int | None) -> A.Compose:
    """Give the compose and every transform in it its own random stream derived from ``seed``.

    ``A.Compose(seed=...)`` seeds every transform with the same number, which makes
    transforms with equal probabilities fire together; independent streams avoid that.
    """
    sequence = np.random.SeedSequence(seed)

    def walk(node: Any) -> None:
        node.set_random_seed(int(sequence.spawn(1)[0].generate_state(1)[0]))
        for child in getattr(node, "transforms", []):
            walk(child)

    walk(compose)
    return compose


class ElasticInk(A.ImageOnlyTransform):
    """A gentle elastic warp sized to the image height, like a hand's small wobbles."""

    def __init__(self, magnitude: float = 1.0, p: float = 0.5) -> None:
        super().__init__(p=p)
        self.magnitude = magnitude

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        """Displace pixels by a smooth random field (a few percent of the height)."""
        height, width = img.shape[:2]
        rng = self.random_generator
        cell = max(4.0, height / rng.uniform(2.0, 4.0))
        grid_h, grid_w = int(np.ceil(height / cell)) + 2, int(np.ceil(width / cell)) + 2
        amplitude = height * 0.025 * self.magnitude
        dx = cv2.resize(
            rng.normal(0, amplitude, (grid_h, grid_w)).astype(np.float32),
            (width, height),
            interpolation=cv2.INTER_CUBIC,
        )
        dy = cv2.resize(
            rng.normal(0, amplitude, (grid_h, grid_w)).astype(np.float32),
            (width, height),
            interpolation=cv2.INTER_CUBIC,
        )
        xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        return cv2.remap(
            img, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=_fill(img)
        )

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        """Arguments albumentations serialises."""
        return ("magnitude",)


class StrokeWidth(A.ImageOnlyTransform):
    """Thicken or thin the strokes by about one pixel a side (min/max filter on dark ink).

    Strokes estimated thinner than four pixels are only thickened, so no stroke vanishes.
    """

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        """Erode (thicken dark ink) or dilate (thin it) with a small round kernel."""
        rng = self.random_generator
        grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        ink = grey < 128
        area = int(ink.sum())
        if area == 0:
            return img
        edges = int((ink & ~cv2.erode(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)).sum())
        width = 2.0 * area / max(edges, 1)
        size = int(rng.choice([2, 3]))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        if width >= 4.0 and rng.random() < 0.5:
            return cv2.dilate(img, kernel)
        return cv2.erode(img, kernel)


class Paper(A.ImageOnlyTransform):
    """Re-ink the number on a new background: flat canvas, paper texture, gradient, ruled lines.

    The ink coverage is read from the input (dark on a light border); a background and an
    ink colour are drawn with enough contrast to stay readable, in either polarity.
    """

    def __init__(
        self, paper_fraction: float = 0.5, dark_fraction: float = 0.3, strength: float = 1.0, p: float = 1.0
    ) -> None:
        super().__init__(p=p)
        self.paper_fraction = paper_fraction
        self.dark_fraction = dark_fraction
        self.strength = strength

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        """Composite the input's ink onto a freshly drawn background."""
        rng = self.random_generator
        alpha = ink_alpha(img)
        height, width = alpha.shape
        dark = rng.random() < self.dark_fraction
        background, ink = _colours(rng, dark)
        canvas = np.empty((height, width, 3), dtype=np.float32)
        canvas[:] = background
        if rng.random() < self.paper_fraction:
            canvas = _texture(rng, canvas, self.strength, dark)
        ink_layer = np.empty_like(canvas)
        ink_layer[:] = ink
        if rng.random() < 0.25:
            grain = rng.normal(0.0, 0.12, (height, width)).astype(np.float32)
            alpha = alpha * np.clip(1.0 - np.abs(grain), 0.55, 1.0)
        alpha = alpha * rng.uniform(0.8, 1.0)
        out = canvas * (1.0 - alpha[..., None]) + ink_layer * alpha[..., None]
        out = np.clip(out, 0, 255).astype(np.uint8)
        return cv2.cvtColor(out, cv2.COLOR_RGB2GRAY) if img.ndim == 2 else out

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        """Arguments albumentations serialises."""
        return ("paper_fraction", "dark_fraction", "strength")


def ink_alpha(img: np.ndarray) -> np.ndarray:
    """Return ink coverage in [0, 1] from a uint8 image of ink on a plain background (either polarity)."""
    grey = (img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)).astype(np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    level = float(np.median(border))
    if level < 128:
        grey, level = 255.0 - grey, 255.0 - level
    darkest = float(grey.min())
    if level - darkest < 1.0:
        return np.zeros_like(grey)
    return np.clip((level - grey) / (level - darkest), 0.0, 1.0)


_LIGHT_BACKGROUNDS = [
    (255, 255, 255),
    (250, 250, 247),
    (244, 241, 232),
    (236, 236, 236),
    (252, 246, 206),
    (232, 240, 250),
]
_DARK_BACKGROUNDS = [(0, 0, 0), (18, 18, 18), (32, 33, 36), (40, 44, 52), (24, 40, 32), (55, 55, 60)]
_DARK_INKS = [(0, 0, 0), (20, 20, 25), (25, 40, 130), (15, 30, 90), (70, 70, 75), (150, 20, 25), (20, 90, 40)]
_LIGHT_INKS = [(255, 255, 255), (235, 235, 235), (250, 240, 170), (190, 220, 255), (200, 200, 200)]


def _colours(rng: np.random.Generator, dark: bool) -> tuple[np.ndarray, np.ndarray]:
    """Draw a background and an ink colour of one polarity whose luminance differs by at least 0.45."""
    backgrounds, inks = (_DARK_BACKGROUNDS, _LIGHT_INKS) if dark else (_LIGHT_BACKGROUNDS, _DARK_INKS)
    while True:
        background = np.array(backgrounds[rng.integers(len(backgrounds))], np.float32)
        ink = np.array(inks[rng.integers(len(inks))], np.float32)
        background = np.clip(background + rng.normal(0, 4, 3), 0, 255)
        ink = np.clip(ink + rng.normal(0, 10, 3), 0, 255)
        if abs(_luma(background) - _luma(ink)) >= 0.45 * 255:
            return background, ink


def _luma(colour: np.ndarray) -> float:
    """ITU-R 601 luma, the grey value PIL and OpenCV use."""
    return float(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2])


def _texture(rng: np.random.Generator, canvas: np.ndarray, strength: float, dark: bool) -> np.ndarray:
    """Add paper: blotchy low-frequency shading, fine grain, a lighting gradient and, sometimes, faint rules."""
    height, width = canvas.shape[:2]
    sign = 1.0 if dark else -1.0
    blotch = rng.normal(0, 1, (max(2, height // 12), max(2, width // 12))).astype(np.float32)
    shade = cv2.resize(blotch, (width, height), interpolation=cv2.INTER_CUBIC) * 6.0 * strength
    grain = rng.normal(0, 3.0 * strength, (height, width)).astype(np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / max(width, 1) + np.sin(angle) * ys / max(height, 1)) * rng.uniform(0, 22) * strength
    canvas = canvas + (shade + grain + sign * np.abs(ramp))[..., None]
    if rng.random() < 0.3:
        canvas = _rules(rng, canvas, dark)
    return canvas


def _rules(rng: np.random.Generator, canvas: np.ndarray, dark: bool) -> np.ndarray:
    """Draw faint notebook rules or a squared grid, well below the ink's contrast."""
    height, width = canvas.shape[:2]
    spacing = rng.uniform(0.35, 0.8) * height
    colour = np.array((150, 180, 230) if not dark else (90, 100, 120), np.float32)
    weight = rng.uniform(0.12, 0.25)
    offset = rng.uniform(0, spacing)
    lines = np.zeros((height, width), np.float32)
    for y in np.arange(offset, height, spacing):
        lines[int(y), :] = 1.0
    if rng.random() < 0.5:
        for x in np.arange(rng.uniform(0, spacing), width, spacing):
            lines[:, int(x)] = 1.0
    lines *= weight
    return canvas * (1 - lines[..., None]) + colour * lines[..., None]


def _fill(img: np.ndarray) -> float | tuple[float, ...]:
    """Return the border colour to pad with: the image's own background level."""
    if img.ndim == 2:
        return float(np.median(np.concatenate([img[0], img[-1]])))
    return tuple(float(v) for v in np.median(np.concatenate([img[0], img[-1]]), axis=0))
