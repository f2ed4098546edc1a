"""The confidence calibration: which validation images it is fitted on (``train: calibration_sources``),
its log-odds feature, and model files from before that feature."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from models.calibration import LOG_SCORE, LOGIT, Calibration, fit_calibration, score_logits
from models.lit_crnn import LitCRNN
from models.preprocess import TARGET_HEIGHT, normalize
from models.recognizer import Recognizer, load_model_file, random_model_file, save_model_file
from pipelines.common.data.number_text import sample_number
from pipelines.common.data.pen import draw_number
from pipelines.common.training.packed_data import PackedSet, pack
from pipelines.common.training.run import MIN_CALIBRATION_IMAGES, calibrate, calibration_set, start_from
from pipelines.common.training.scoring import reliability
from tests.configs import small_config

RELEASE = Path(__file__).resolve().parents[1] / "models" / "release" / "model.pt"
SOURCES = ["fonts", "strokes", "pen_real", "handwritten", "paper", "svhn"]
REAL_LIKE = ["pen_real", "handwritten", "paper", "corrections"]


def numbered_set(per_source: int) -> PackedSet:
    """``per_source`` images of each of SOURCES; image ``i`` is labelled ``str(i)`` and its width is
    ``1 + i % 7`` and its ink ``i % 251``, so a selection can be checked image by image."""
    images, labels, sources = [], [], []
    for i in range(per_source * len(SOURCES)):
        images.append(np.full((TARGET_HEIGHT, 1 + i % 7), (i % 251) / 255, dtype=np.float32))
        labels.append(str(i))
        sources.append(SOURCES[i % len(SOURCES)])
    return pack(images, labels, sources)


def test_calibration_set_keeps_only_the_named_sources_image_by_image():
    val = numbered_set(per_source=100)
    chosen = calibration_set(val, REAL_LIKE)
    assert len(chosen) == 300
    assert set(chosen.sources) == {"pen_real", "handwritten", "paper"}
    for k in range(len(chosen)):
        i = int(chosen.labels[k])
        assert chosen.sources[k] == SOURCES[i % len(SOURCES)]
        assert chosen.stored(k).shape == (TARGET_HEIGHT, 1 + i % 7)
        assert (chosen.stored(k) == i % 251).all()


def test_calibration_set_is_the_whole_set_without_sources_or_with_too_few_images(caplog):
    val = numbered_set(per_source=100)
    assert calibration_set(val, []) is val
    assert calibration_set(val, None) is val
    with caplog.at_level(logging.INFO, logger="pipelines.common.training.run"):
        assert calibration_set(val, ["pen_real", "corrections"]) is val  # 100 images
        assert calibration_set(val, ["corrections"]) is val  # none at all
    assert MIN_CALIBRATION_IMAGES == 200
    fallbacks = [r.getMessage() for r in caplog.records if "fewer than 200" in r.getMessage()]
    assert len(fallbacks) == 2 and "100 validation images" in fallbacks[0] and "all 600" in fallbacks[0]
    assert len(calibration_set(val, ["pen_real", "corrections"], minimum=100)) == 100


def over_confident(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-scores as real writing gives them (most a hair below 0, a tail down to -3) whose true
    chance of being right is a sigmoid of their log-odds well below ``exp(log_score)``."""
    scores = -np.exp(rng.uniform(np.log(1e-4), np.log(3.0), size=n))
    truth = 1 / (1 + np.exp(-(0.6 * score_logits(scores) - 0.7)))
    return scores, rng.random(n) < truth


def test_a_calibration_fitted_on_over_confident_data_lowers_the_confidence_to_the_accuracy():
    rng = np.random.default_rng(0)
    scores, correct = over_confident(rng, 3000)
    fitted = fit_calibration(scores, correct)
    assert fitted.feature == LOGIT
    assert fitted.slope == pytest.approx(0.6, rel=0.15)
    assert fitted.intercept == pytest.approx(-0.7, abs=0.2)
    held_scores, held_correct = over_confident(rng, 3000)
    raw = [Calibration().confidence(s) for s in held_scores]
    calibrated = [fitted.confidence(s) for s in held_scores]
    assert np.mean(calibrated) < np.mean(raw) - 0.1
    assert np.mean(calibrated) == pytest.approx(held_correct.mean(), abs=0.03)
    assert reliability(calibrated, held_correct)[0] < 0.03 < reliability(raw, held_correct)[0]
    # the old sigmoid of the raw log-score cannot follow this shape: it stays off on the same data
    old = fit_calibration(scores, correct, feature=LOG_SCORE)
    assert reliability([old.confidence(s) for s in held_scores], held_correct)[0] > 0.04


def test_logit_feature_is_finite_and_monotone_up_to_a_certain_reading():
    logits = score_logits(np.array([-20.0, -1.0, -0.01, -1e-9, 0.0, 0.5]))
    assert np.isfinite(logits).all()
    assert (np.diff(logits[:4]) > 0).all() and logits[3] == logits[4] == logits[5]
    assert logits[1] == pytest.approx(np.log(np.exp(-1) / (1 - np.exp(-1))))
    assert 0.0 < Calibration(0.6, -0.7, LOGIT).confidence(0.0) < 1.0
    with pytest.raises(ValueError, match="feature"):
        Calibration(1.0, 0.0, "probit")


def test_model_files_without_a_feature_keep_the_raw_log_score(tmp_path):
    old = Calibration(**{"slope": 5.0, "intercept": 3.0})
    assert old.feature == LOG_SCORE
    assert old.confidence(-0.5) == pytest.approx(1 / (1 + np.exp(-(5.0 * -0.5 + 3.0))))
    model, _, _ = load_model_file(random_model_file(tmp_path / "random.pt", small_config()))
    path = save_model_file(tmp_path / "logit.pt", model, Calibration(0.6, -0.7, LOGIT))
    assert load_model_file(path)[1] == Calibration(0.6, -0.7, LOGIT)
    payload = torch.load(path, weights_only=True)  # a file written before the feature existed (release 2)
    payload["calibration"] = {"slope": 5.0, "intercept": 3.0}
    torch.save(payload, tmp_path / "before.pt")
    assert load_model_file(tmp_path / "before.pt")[1] == Calibration(5.0, 3.0, LOG_SCORE)


def test_calibrate_on_the_real_like_sources_follows_their_accuracy():
    """The release reads clean pen numbers; ``pen_real`` here has wrong labels on most copies of the
    numbers it scores lowest, as if real writing were read worse than the synthetic ``fonts``: fitted
    on every source the confidence stays high on it, fitted on the real-like sources it follows
    their accuracy."""
    model, _, _ = load_model_file(RELEASE)
    module = LitCRNN(model.config.to_dict())
    start_from(module, RELEASE)
    texts, images = [], []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        texts.append(sample_number(rng, 1, 6, 0.3))
        images.append(normalize(Image.fromarray(np.rint(255 * (1 - draw_number(texts[-1], rng))).astype(np.uint8))))
    wrong = [("1" if text[0] != "1" else "7") + text[1:] for text in texts]
    scores = [d.log_score for d in Recognizer(module.model).decode_normalized(images)]
    low = set(np.argsort(scores)[:30].tolist())  # of 5 copies of each of these, 3 are labelled wrong
    real = [(wrong if i % 60 in low and (i // 60) % 3 else texts)[i % 60] for i in range(300)]
    labels = [texts[i % 60] for i in range(600)] + real
    sources = ["fonts"] * 600 + ["pen_real"] * 300
    val = pack([images[i % 60] for i in range(900)], labels, sources)

    everywhere, real_like = calibrate(module, val), calibrate(module, val, REAL_LIKE)
    decoded = Recognizer(module.model).decode_normalized([val.image(i) for i in range(600, 900)])
    right = np.mean([d.text == label for d, label in zip(decoded, labels[600:], strict=True)])
    assert right < 0.75
    assert real_like.slope > 0
    on_real = {cal: np.mean([cal.confidence(d.log_score) for d in decoded]) for cal in (everywhere, real_like)}
    assert on_real[real_like] == pytest.approx(right, abs=0.05)
    assert on_real[everywhere] > on_real[real_like] + 0.1
