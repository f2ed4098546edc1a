"""From what a client uploaded to what the model reads, with a readable 4xx for every bad input.

Decoding and normalization are ``models.preprocess``'s (the one preprocessing path); this module
adds the service's checks (size limit, base64/data-URL strings), the facts logged about each
image, and the PNG of a normalized array that ``/preview`` shows (what the model sees).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from models.preprocess import ImageDecodeError, NoInkError, load_image, normalize

DATA_URL = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.I)


class InputError(ValueError):
    """A client sent something that cannot be read; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class PreparedImage:
    """One uploaded image: facts for the log, and its normalized array or the reason it was rejected."""

    nbytes: int
    sha256: str
    width: int | None = None
    height: int | None = None
    array: np.ndarray | None = None
    error: InputError | None = None


def decode_base64_image(value: str) -> bytes:
    """Decode a base64 string or a ``data:image/...;base64,`` URL into image bytes."""
    text = value.strip()
    if not text:
        raise InputError("the image is empty")
    match = DATA_URL.match(text)
    if match:
        media_type = (match["type"] or "").lower()
        if media_type and not media_type.startswith("image/"):
            raise InputError(f"the data URL holds {media_type}, not an image", status=415)
        if not match["b64"]:
            raise InputError("the data URL must be base64-encoded (data:image/png;base64,...)")
        text = text[match.end() :]
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError("the image is not valid base64") from exc
    if not data:
        raise InputError("the image is empty")
    return data


def prepare(data: bytes, max_bytes: int) -> PreparedImage:
    """Check, decode and normalize one image; never raises for bad input (it is recorded instead)."""
    prepared = PreparedImage(nbytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    if len(data) > max_bytes:
        prepared.error = InputError(f"the image is {len(data):,} bytes; the limit is {max_bytes:,}", status=413)
        return prepared
    if not data:
        prepared.error = InputError("the image is empty (0 bytes)")
        return prepared
    try:
        image = load_image(data)
    except ImageDecodeError as exc:
        message = str(exc)
        if "cannot identify image file" in message:
            message = "not a readable image (not PNG, JPEG or another known image format)"
        prepared.error = InputError(message)
        return prepared
    except Exception as exc:  # any decoder failure on hostile bytes is the client's input, not our bug
        prepared.error = InputError(f"not a readable image ({type(exc).__name__})")
        return prepared
    prepared.width, prepared.height = image.size
    try:
        prepared.array = normalize(image)
    except ImageDecodeError as exc:
        prepared.error = InputError(str(exc))
    except NoInkError as exc:
        message = str(exc)
        prepared.error = InputError(
            message if message.startswith("no number found") else f"no number found: {message}", 422
        )
    return prepared


def preview_png(array: np.ndarray) -> bytes:
    """Encode a normalized ``(32, W)`` array as an 8-bit grey PNG: ink white (255) on black (0)."""
    grey = np.rint(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_url(png: bytes) -> str:
    """Return PNG bytes as a ``data:image/png;base64,...`` URL."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
