"""The one preprocessing path from any image a user gives us to the array the model sees.

A canvas drawing (transparent or white background), a phone photo and a scan all end as
the same normalized form: a float32 array of height ``TARGET_HEIGHT``, ink = 1 and
background = 0, cropped to the ink with a margin, aspect ratio kept.
Training, evaluation, the notebook and the service all call :func:`normalize`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

TARGET_HEIGHT = 32
MAX_WIDTH = 512
MIN_WIDTH = 16
WIDTH_MULTIPLE = 4
WORKING_MAX_SIDE = 768
MARGIN_FRACTION = 0.12
MIN_CONTRAST = 0.12
INK_THRESHOLD = 0.12
CROP_LEVEL = 0.15  # a row or column is part of the number once a pixel in it reaches this (faint strokes too)
MAX_PIXELS = 16_000_000  # a 12-megapixel phone photo or an A4 page at 400 dpi; checked before decoding
BACKGROUND_MAP_MIN_SIDE = 96

ImageSource = Image.Image | bytes | bytearray | np.ndarray | str | Path


class ImageDecodeError(ValueError):
    """The input could not be decoded as an image."""


class NoInkError(ValueError):
    """The image holds no visible ink: there is no number to read."""


def load_image(source: ImageSource) -> Image.Image:
    """Decode ``source`` (PIL image, encoded bytes, array or path) into a PIL image.

    Raises ImageDecodeError with a readable message for anything that is not a valid image,
    including truncated files and decompression bombs.
    """
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return _array_to_image(source)
    try:
        if isinstance(source, (bytes, bytearray)):
            if not source:
                raise ImageDecodeError("the image is empty (0 bytes)")
            image = Image.open(io.BytesIO(bytes(source)))
        else:
            image = Image.open(Path(source))
        if image.width * image.height > MAX_PIXELS:
            raise ImageDecodeError(
                f"the image is too large ({image.width}x{image.height} pixels; at most {MAX_PIXELS:,})"
            )
        image.load()
    except ImageDecodeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"the image is too large to decode safely: {exc}") from exc
    except FileNotFoundError as exc:
        raise ImageDecodeError(f"no such image file: {source}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(f"not a readable image ({exc})") from exc
    return ImageOps.exif_transpose(image) or image


def _array_to_image(array: np.ndarray) -> Image.Image:
    """Turn a HxW, HxWx3 or HxWx4 array (uint8, or float in [0, 1]) into a PIL image."""
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageDecodeError(f"an image array must be HxW, HxWx3 or HxWx4, got shape {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(np.asarray(array, dtype=np.float32) * 255.0, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(array)


def _ink_map(image: Image.Image) -> np.ndarray:
    """Return a float32 map in [0, 1] where ink is high and background low, whatever the polarity.

    Transparent canvases use their alpha as the ink; opaque images are made grey, their
    background level is estimated from the border and removed, and the contrast is stretched.
    """
    if max(image.size) > WORKING_MAX_SIDE:
        image = image.copy()
        image.thumbnail((WORKING_MAX_SIDE, WORKING_MAX_SIDE), Image.Resampling.BILINEAR)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
        if alpha.min() < 0.5:
            return alpha
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    if grey.size == 0:
        return grey
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    dark_background = float(np.median(border)) < 0.5
    background = _background(grey, dark_background)
    ink = grey - background if dark_background else background - grey
    return np.clip(ink, 0.0, None)


def _background(grey: np.ndarray, dark_background: bool) -> np.ndarray | float:
    """Estimate the paper level: one number for small crops, a smooth map for photos and scans.

    On a downscaled copy a max (or min, for dark paper) filter wipes out strokes narrower
    than a fifth of the image, leaving uneven lighting, which is then removed.
    """
    height, width = grey.shape
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if min(height, width) < BACKGROUND_MAP_MIN_SIDE:
        return float(np.median(border))
    factor = min(height, width) / 24.0
    small = Image.fromarray((grey * 255).astype(np.uint8)).resize(
        (max(1, round(width / factor)), max(1, round(height / factor))), Image.Resampling.BOX
    )
    paper_filter = ImageFilter.MinFilter(5) if dark_background else ImageFilter.MaxFilter(5)
    paper = small.filter(paper_filter).filter(ImageFilter.GaussianBlur(2))
    paper = paper.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(paper, dtype=np.float32) / 255.0


def normalize(source: ImageSource) -> np.ndarray:
    """Preprocess an image into the model's normalized form.

    Returns a float32 array of shape ``(TARGET_HEIGHT, W)`` with ``MIN_WIDTH <= W <= MAX_WIDTH``
    and ``W`` a multiple of ``WIDTH_MULTIPLE``; ink is 1, background 0.
    Raises ImageDecodeError for undecodable input and NoInkError for a blank image.
    """
    ink = _ink_map(load_image(source))
    if ink.size == 0 or min(ink.shape) < 2:
        raise NoInkError("the image is too small to hold a number")
    peak = float(np.percentile(ink, 99.9))
    if peak < MIN_CONTRAST:
        raise NoInkError("no number found: the image is blank")
    ink = np.clip(ink / peak, 0.0, 1.0)
    ink = np.clip((ink - INK_THRESHOLD) / (1.0 - INK_THRESHOLD), 0.0, 1.0)
    rows = np.flatnonzero(ink.max(axis=1) > CROP_LEVEL)
    cols = np.flatnonzero(ink.max(axis=0) > CROP_LEVEL)
    if rows.size == 0 or cols.size == 0:
        raise NoInkError("no number found: the image is blank")
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return _fit_height(ink)


def _fit_height(ink: np.ndarray) -> np.ndarray:
    """Scale a tight ink crop to the target height with a margin, keeping its aspect ratio."""
    height, width = ink.shape
    inner = TARGET_HEIGHT * (1.0 - 2 * MARGIN_FRACTION)
    scale = inner / height
    new_w = max(1, round(width * scale))
    new_h = max(1, round(height * scale))
    max_inner_w = MAX_WIDTH - 2 * round(TARGET_HEIGHT * MARGIN_FRACTION)
    if new_w > max_inner_w:
        scale = max_inner_w / width
        new_w, new_h = max_inner_w, max(1, round(height * scale))
    resized = Image.fromarray(ink.astype(np.float32), mode="F").resize(
        (new_w, new_h), Image.Resampling.BILINEAR if scale >= 1 else Image.Resampling.BOX
    )
    margin = round(TARGET_HEIGHT * MARGIN_FRACTION)
    out_w = max(MIN_WIDTH, new_w + 2 * margin)
    out_w = -(-out_w // WIDTH_MULTIPLE) * WIDTH_MULTIPLE
    out = np.zeros((TARGET_HEIGHT, out_w), dtype=np.float32)
    top = (TARGET_HEIGHT - new_h) // 2
    left = (out_w - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.clip(np.asarray(resized), 0.0, 1.0)
    return out


def collate(arrays: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack normalized arrays into a zero-padded batch ``(B, 1, H, W_max)`` and their widths ``(B,)``."""
    widths = torch.tensor([a.shape[1] for a in arrays], dtype=torch.long)
    batch = torch.zeros(len(arrays), 1, TARGET_HEIGHT, int(widths.max()))
    for i, array in enumerate(arrays):
        batch[i, 0, :, : array.shape[1]] = torch.from_numpy(array)
    return batch, widths
