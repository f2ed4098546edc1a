"""Where an encoded image ends: bytes appended after it are found, in every format the service keeps."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from service.prediction.image_end import encoded_end, trailing_bytes


def encoded(fmt: str, **options) -> bytes:
    """A small drawn picture in ``fmt``."""
    image = Image.new("RGB", (64, 40), "white")
    for x in range(10, 50):
        image.putpixel((x, 20), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("GIF", {}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
    ],
    ids=["png", "jpeg", "jpeg-progressive", "gif", "webp", "webp-lossless"],
)
def test_the_end_of_each_format_is_found_and_appended_bytes_are_counted(fmt, options):
    data = encoded(fmt, **options)
    assert encoded_end(data) == len(data)
    assert trailing_bytes(data) == 0
    hidden = b"\xff\xd9 hidden payload \x00" * 1000
    assert trailing_bytes(data + hidden) == len(hidden)
    assert Image.open(io.BytesIO(data + hidden)).size == (64, 40)  # a decoder reads it all the same


def test_unknown_or_broken_encodings_claim_no_trailing_bytes():
    assert encoded_end(b"BM not a format we walk") is None
    assert trailing_bytes(b"BM not a format we walk") == 0
    assert encoded_end(encoded("PNG")[:30]) is None  # cut short: no end found
