"""Model behaviour with a really trained model: invariances and minimum functionality."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from models.recognizer import Recognizer
from pipelines import pen_strokes
from pipelines.common.labelled_folder import read_folder
from tests.trained_model import stroke_params


@pytest.fixture(scope="module")
def recognizer(trained_model_file) -> Recognizer:
    return Recognizer.from_file(trained_model_file)


@pytest.fixture(scope="module")
def clean_drawings(tmp_path_factory) -> list[tuple[Image.Image, str]]:
    """Clean canvas exports of numbers the model has never seen, made dark ink on white."""
    output = tmp_path_factory.mktemp("clean-strokes")
    params = stroke_params(output, train=1, val=1)
    params.update(counts={"train": 1, "val": 1, "test": 40}, clean_fraction=1.0, seed=987)
    pen_strokes.generate(params)
    samples = read_folder(output / "test")
    return [(dark_on_light(Image.open(s.path).convert("L")), s.label) for s in samples]


def dark_on_light(image: Image.Image) -> Image.Image:
    """The drawing with dark ink on a light background, full contrast (dark canvases are inverted)."""
    grey = np.asarray(image)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return ImageOps.autocontrast(ImageOps.invert(image) if np.median(border) < 128 else image)


def as_light_on_dark(image: Image.Image) -> Image.Image:
    return ImageOps.invert(image)


def padded(image: Image.Image) -> Image.Image:
    return ImageOps.expand(image, border=(60, 25, 90, 40), fill=255)


def scaled(image: Image.Image) -> Image.Image:
    return image.resize((image.width * 3, image.height * 3), Image.Resampling.BICUBIC)


def transparent_canvas(image: Image.Image) -> Image.Image:
    """What a canvas with a transparent background exports: black ink, alpha = ink."""
    black = Image.new("L", image.size, 0)
    return Image.merge("RGBA", (black, black, black, ImageOps.invert(image)))


def colour_photo(image: Image.Image) -> Image.Image:
    rgb = np.asarray(image.convert("RGB")).astype(np.float32)
    light = np.linspace(0.7, 1.0, rgb.shape[1])[None, :, None] * np.array([1.0, 0.96, 0.88])
    return Image.fromarray(np.clip(rgb * light, 0, 255).astype(np.uint8))


def test_reads_clean_drawings(recognizer, clean_drawings):
    predictions = recognizer.predict([image for image, _ in clean_drawings])
    right = sum(p.text == label for p, (_, label) in zip(predictions, clean_drawings, strict=True))
    assert right / len(clean_drawings) >= 0.7


@pytest.mark.parametrize("transform", [as_light_on_dark, padded, scaled, transparent_canvas, colour_photo])
def test_same_text_whatever_the_presentation(recognizer, clean_drawings, transform):
    originals = recognizer.predict([image for image, _ in clean_drawings])
    changed = recognizer.predict([transform(image) for image, _ in clean_drawings])
    same = sum(a.text == b.text for a, b in zip(originals, changed, strict=True))
    assert same / len(clean_drawings) >= 0.9


def test_confidence_is_calibrated_and_separates_right_from_wrong(recognizer, trained_model):
    _, val = trained_model
    predictions = recognizer.predict_normalized(val.images())
    right = [p.confidence for p, label in zip(predictions, val.labels, strict=True) if p.text == label]
    wrong = [p.confidence for p, label in zip(predictions, val.labels, strict=True) if p.text != label]
    assert right and wrong
    # the chance that a right answer is more confident than a wrong one (AUROC); constant or
    # random confidences give 0.5
    auroc = np.mean([(r > w) + 0.5 * (r == w) for r in right for w in wrong])
    assert auroc > 0.62
    assert abs(np.mean([p.confidence for p in predictions]) - len(right) / len(predictions)) < 0.05
