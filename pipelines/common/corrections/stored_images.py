"""Images the service kept, fetched by URI and made ready for a labelled folder.

The service stores each image exactly as uploaded, addressed by the SHA-256 of its bytes, and the
database records its URI (a local path or any fsspec URL). A fetched image is checked against its
hash and decoded by the model's own loader; PNG and JPEG bytes are kept exactly as they are,
anything else is re-encoded to PNG (deterministically: the same bytes in give the same bytes out).
"""

from __future__ import annotations

import hashlib
import io

import fsspec
from PIL import Image

from models.preprocess import ImageDecodeError, load_image

KEPT_FORMATS = {"PNG": ".png", "JPEG": ".jpg"}
PNG_MODES = {"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"}


class StoredImageError(ValueError):
    """A stored image cannot be used; the message says why."""


def fetch(uri: str, sha256: str) -> bytes:
    """The bytes at ``uri``, checked against their SHA-256 hex digest."""
    try:
        with fsspec.open(uri, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError, ImportError) as exc:
        raise StoredImageError(f"cannot read it ({type(exc).__name__}: {exc})") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StoredImageError("its bytes do not match the image's SHA-256 (changed or damaged in the store)")
    return data


def as_png_or_jpeg(data: bytes) -> tuple[bytes, str]:
    """The image as PNG or JPEG bytes and their suffix: the bytes unchanged when they already are one."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            fmt = opened.format
        image = load_image(data)
    except (ImageDecodeError, OSError, SyntaxError, ValueError) as exc:
        raise StoredImageError(f"not a readable image ({exc})") from exc
    if fmt in KEPT_FORMATS:
        return data, KEPT_FORMATS[fmt]
    if image.mode not in PNG_MODES:
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), ".png"
