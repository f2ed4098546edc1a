"""The one preprocessing path: any image ends in the same normalized form."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from models.preprocess import (
    MAX_WIDTH,
    TARGET_HEIGHT,
    WIDTH_MULTIPLE,
    ImageDecodeError,
    NoInkError,
    collate,
    load_image,
    normalize,
)


def close(a: np.ndarray, b: np.ndarray, tolerance: float = 0.06) -> bool:
    return a.shape == b.shape and float(np.abs(a - b).mean()) < tolerance


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_output_form(drawn_number):
    out = normalize(drawn_number("12.75"))
    assert out.dtype == np.float32
    assert out.shape[0] == TARGET_HEIGHT
    assert out.shape[1] % WIDTH_MULTIPLE == 0 and out.shape[1] <= MAX_WIDTH
    assert out.min() == 0.0 and out.max() == pytest.approx(1.0)
    # cropped to the ink with a margin: the border rows and columns are background
    assert out[0].max() == 0 and out[-1].max() == 0 and out[:, 0].max() == 0


def test_polarity_does_not_matter(drawn_number):
    image = drawn_number("4096")
    assert close(normalize(image), normalize(ImageOps.invert(image)))


def test_padding_does_not_matter(drawn_number):
    image = drawn_number("305")
    padded = ImageOps.expand(image, border=(80, 30, 120, 50), fill=255)
    assert close(normalize(image), normalize(padded))


def test_scale_does_not_matter(drawn_number):
    image = drawn_number("87")
    big = image.resize((image.width * 3, image.height * 3), Image.Resampling.BICUBIC)
    a, b = normalize(image), normalize(big)
    assert abs(a.shape[1] - b.shape[1]) <= WIDTH_MULTIPLE
    width = min(a.shape[1], b.shape[1])
    assert float(np.abs(a[:, :width] - b[:, :width]).mean()) < 0.1


def test_transparent_canvas_equals_white_canvas(drawn_number):
    white = drawn_number("42")
    alpha = ImageOps.invert(white)
    transparent = Image.merge("RGBA", (white, white, white, alpha))
    transparent_white_ink = Image.merge("RGBA", (alpha, alpha, alpha, alpha))
    assert close(normalize(white), normalize(transparent))
    assert close(normalize(white), normalize(transparent_white_ink))


def test_colour_photo_with_uneven_light(drawn_number):
    image = drawn_number("2024", height=120).convert("RGB")
    array = np.asarray(image).astype(np.float32)
    gradient = np.linspace(0.55, 1.0, array.shape[1])[None, :, None]
    photo = Image.fromarray((array * gradient * np.array([1.0, 0.95, 0.85])).astype(np.uint8))
    assert close(normalize(photo), normalize(drawn_number("2024", height=120)), tolerance=0.1)


def test_a_faint_last_digit_stays_in_the_crop(drawn_number):
    """A light pencil digit beside dark ones is part of the number, not background to crop away."""
    dark = np.asarray(drawn_number("47", height=60), dtype=np.float32)
    faint = 255 - 0.3 * (255 - np.asarray(drawn_number("1", height=60), dtype=np.float32))
    both = Image.fromarray(np.concatenate([dark, faint], axis=1).astype(np.uint8))
    out = normalize(both)
    assert out.shape[1] > normalize(Image.fromarray(dark.astype(np.uint8))).shape[1] + 8
    right = out[:, 3 * out.shape[1] // 4 :]
    assert right.max() > 0.15, "the faint 1 was cut off or thresholded away"


def test_same_result_from_bytes_array_path_and_pil(drawn_number, tmp_path):
    image = drawn_number("0.5")
    path = tmp_path / "n.png"
    image.save(path)
    reference = normalize(image)
    for source in (png_bytes(image), np.asarray(image), path, str(path)):
        assert close(normalize(source), reference, tolerance=1e-6)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (300, 100), 255),
        Image.new("RGBA", (300, 100), (0, 0, 0, 0)),
        Image.new("RGB", (640, 480), (128, 120, 110)),
        Image.new("L", (1, 1), 0),
    ],
    ids=["white", "transparent", "flat-photo", "1x1"],
)
def test_blank_images_have_no_number(image):
    with pytest.raises(NoInkError):
        normalize(image)


@pytest.mark.parametrize(
    "data",
    [b"", b"this is not an image", png_bytes(Image.new("L", (50, 50), 255))[:40]],
    ids=["empty", "text", "truncated-png"],
)
def test_undecodable_bytes(data):
    with pytest.raises(ImageDecodeError):
        load_image(data)


def test_missing_file_is_a_decode_error(tmp_path):
    with pytest.raises(ImageDecodeError, match="no such image file"):
        load_image(tmp_path / "missing.png")


def test_decompression_bomb_is_refused():
    header = Image.new("1", (20000, 20000))
    buffer = io.BytesIO()
    header.save(buffer, format="PNG")
    with pytest.raises(ImageDecodeError, match="too large"):
        load_image(buffer.getvalue())


def test_a_small_file_of_too_many_pixels_is_refused_before_it_is_decoded():
    """A 6300x6300 PNG is 52 KB yet cost a third of a second to decode: refused from its header alone."""
    buffer = io.BytesIO()
    Image.new("L", (6300, 6300), 255).save(buffer, format="PNG", optimize=True)
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(ImageDecodeError, match="6300x6300 pixels; at most 16,000,000"):
        load_image(buffer.getvalue())
    page = io.BytesIO()
    Image.new("L", (2480, 3508), 255).save(page, format="PNG")  # an A4 page at 300 dpi still reads
    assert load_image(page.getvalue()).size == (2480, 3508)


def test_very_wide_number_is_squeezed_into_max_width(drawn_number):
    out = normalize(drawn_number("1234567890" * 4, height=40))
    assert out.shape == (TARGET_HEIGHT, MAX_WIDTH)


def test_collate_pads_to_the_widest(drawn_number):
    arrays = [normalize(drawn_number(t)) for t in ("1", "123456")]
    batch, widths = collate(arrays)
    assert batch.shape == (2, 1, TARGET_HEIGHT, max(a.shape[1] for a in arrays))
    assert widths.tolist() == [a.shape[1] for a in arrays]
    assert float(batch[0, 0, :, widths[0] :].abs().sum()) == 0.0
