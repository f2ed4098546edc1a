"""The released model that ships with the repository: readable, described by its card, and one that
the default profile can fine-tune (same architecture as ``params.yaml: model``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from models.recognizer import Recognizer, load_model_file
from pipelines.common.data.number_text import sample_number
from pipelines.common.data.pen import draw_number
from pipelines.common.training.run import ARCHITECTURE

ROOT = Path(__file__).resolve().parents[1]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
RELEASE = ROOT / PARAMS["train"]["init_from"]


def test_the_default_profile_fine_tunes_and_registers_the_release():
    assert PARAMS["train"]["init_from"] == PARAMS["sweep"]["init_from"] == PARAMS["register"]["release"]
    assert RELEASE.is_file()


def test_the_release_matches_its_card_and_the_model_settings():
    facts = json.loads((RELEASE.parent / "release.json").read_text())
    assert hashlib.sha256(RELEASE.read_bytes()).hexdigest() == facts["sha256"]
    model, _, _ = load_model_file(RELEASE)
    assert {k: getattr(model.config, k) for k in ARCHITECTURE} == {k: PARAMS["model"][k] for k in ARCHITECTURE}
    card = (RELEASE.parent / "MODEL_CARD.md").read_text()
    assert facts["sha256"] in card and facts["commit"] in card
    for name in ("usps_benchmark", "paper", "handwritten"):
        assert name in facts["metrics"] and f"| {name} |" in card


def test_the_release_reads_pen_written_numbers():
    texts, images = [], []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        texts.append(sample_number(rng, 1, 8, 0.3))
        images.append(Image.fromarray(np.rint(255 * (1 - draw_number(texts[-1], rng))).astype(np.uint8)))
    predictions = Recognizer.from_file(RELEASE).predict(images)
    right = sum(prediction.text == text for prediction, text in zip(predictions, texts, strict=True))
    assert right >= 26, f"{right} of 30 pen-written numbers read right"
