"""Units of the model package: charset, CTC decoding, calibration, the CRNN's shapes, model files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.calibration import LOG_SCORE, Calibration, fit_calibration
from models.charset import BLANK, CHARSET, EARLIER_CHARSETS, NUM_CLASSES, LabelError, decode, encode, validate_label
from models.crnn import CRNN, output_lengths
from models.decoding import beam_decode, greedy_decode
from models.metrics import character_error_rate, edit_distance, exact_match, value_exact_match
from models.recognizer import (
    MODEL_FORMAT,
    UNTRAINED_CLASS_BIAS,
    ModelFileError,
    Recognizer,
    load_model_file,
    random_model_file,
    save_model_file,
)
from tests.configs import small_config


def frames(path: str, confident: float = 0.9) -> np.ndarray:
    """Log-probabilities whose best path spells ``path`` ('-' is the blank)."""
    rest = (1 - confident) / (NUM_CLASSES - 1)
    probs = np.full((len(path), NUM_CLASSES), rest)
    for t, char in enumerate(path):
        probs[t, BLANK if char == "-" else encode(char)[0]] = confident
    return np.log(probs)


def test_charset_round_trip():
    assert CHARSET == "0123456789.,-+e×^"
    for text in ("12.75", "-1,250.00", "+3", "1.5e-3", "6.02×10^23"):
        assert decode(encode(text)) == text
    assert BLANK not in encode(CHARSET)


def test_the_alphabet_only_grows_at_its_end():
    for earlier in EARLIER_CHARSETS:
        assert CHARSET.startswith(earlier) and len(earlier) < len(CHARSET)


@pytest.mark.parametrize("label", ["", "12a", "1;5", " 7", "6.02x10"])
def test_invalid_labels(label):
    with pytest.raises(LabelError):
        validate_label(label)


def test_greedy_collapses_repeats_and_needs_blanks_between_equal_digits():
    assert greedy_decode(frames("-11-1-00-0.-5")).text == "1100.5"
    assert greedy_decode(frames("1000")).text == "10"
    assert greedy_decode(frames("1-0-0-0")).text == "1000"


def test_greedy_confidences():
    decoded = greedy_decode(frames("-4-2-", confident=0.8))
    assert decoded.text == "42"
    assert decoded.char_confidences == pytest.approx([0.8, 0.8])
    assert decoded.log_score == pytest.approx(2 * math.log(0.8))
    empty = greedy_decode(frames("---", confident=0.7))
    assert empty.text == "" and empty.log_score == pytest.approx(math.log(0.7))


def test_beam_sums_alignments_and_agrees_with_greedy_on_clear_input():
    log_probs = frames("-7-3-.-5-", confident=0.95)
    beam, greedy = beam_decode(log_probs), greedy_decode(log_probs)
    assert beam.text == greedy.text == "73.5"
    assert beam.log_score == pytest.approx(greedy.log_score)
    assert beam.char_confidences == pytest.approx(greedy.char_confidences)


def test_beam_finds_string_the_best_path_misses():
    # Two frames: blank 0.4, "1" 0.35 and "2" 0.25 each. Best path: "--" (p=0.16) -> "".
    # But p("1") = 0.35*0.4 + 0.4*0.35 + 0.35*0.35 = 0.4025 > p("") = 0.16.
    probs = np.full((2, NUM_CLASSES), 1e-6)
    probs[:, BLANK], probs[:, encode("1")[0]], probs[:, encode("2")[0]] = 0.4, 0.35, 0.25
    log_probs = np.log(probs)
    assert greedy_decode(log_probs).text == ""
    beam = beam_decode(log_probs)
    assert beam.text == "1"
    assert beam.char_confidences == pytest.approx([0.35])


def test_calibration_fit_tracks_accuracy():
    rng = np.random.default_rng(0)
    scores = rng.uniform(-6, 0, size=4000)
    truth = 1 / (1 + np.exp(-(1.5 * scores + 4)))
    correct = rng.random(4000) < truth
    fitted = fit_calibration(scores, correct, feature=LOG_SCORE)
    assert fitted.slope == pytest.approx(1.5, rel=0.2)
    assert fitted.intercept == pytest.approx(4, rel=0.2)
    assert 0.0 < fitted.confidence(-3.0) < 1.0


def test_calibration_falls_back_when_everything_is_right():
    assert fit_calibration(np.zeros(100), np.ones(100)) == Calibration()
    assert Calibration().confidence(math.log(0.7)) == pytest.approx(0.7)


def test_metrics():
    assert edit_distance("12.5", "125") == 1
    assert exact_match(["1", "2"], ["1", "3"]) == 0.5
    assert character_error_rate(["12"], ["123"]) == pytest.approx(1 / 3)
    # the same number written differently matches by value, not by text; a label with no value by its text
    assert value_exact_match(["12.50", "007", "12.5", "1.2.3", "1.2.3"], ["12.5", "7", "125", "1.2.3", "1.23"]) == 0.6


def test_crnn_shapes_and_ctc_length():
    model = CRNN(small_config()).eval()
    out = model(torch.zeros(3, 1, 32, 96))
    assert out.shape == (24, 3, NUM_CLASSES)
    assert torch.allclose(out.exp().sum(-1), torch.ones(24, 3), atol=1e-5)
    assert output_lengths(torch.tensor([96, 40])).tolist() == [24, 10]


def test_each_image_in_a_padded_batch_scores_as_if_read_alone():
    torch.manual_seed(0)
    model = CRNN(small_config()).eval()
    widths = [96, 40, 16, 64]
    images = [torch.rand(1, 1, 32, width) for width in widths]
    batch = torch.zeros(len(widths), 1, 32, max(widths))
    for index, image in enumerate(images):
        batch[index, :, :, : widths[index]] = image[0]
    with torch.inference_mode():
        together = model(batch, torch.tensor(widths))
        unmasked = model(batch)
        for index, image in enumerate(images):
            alone = model(image, torch.tensor([widths[index]]))[:, 0]
            steps = widths[index] // 4
            assert torch.allclose(together[:steps, index], alone, atol=1e-5)
            if widths[index] < max(widths):
                assert not torch.allclose(unmasked[:steps, index], alone, atol=1e-3)  # the padding would leak in


def test_model_file_round_trip(tmp_path, drawn_number):
    path = random_model_file(tmp_path / "model.pt", small_config())
    model, _, metadata = load_model_file(path)
    assert metadata == {"untrained": True}
    calibrated = tmp_path / "calibrated.pt"
    save_model_file(calibrated, model, Calibration(2.0, 1.0), {"run_id": "abc"})
    recognizer = Recognizer.from_file(calibrated, model_version="7")
    assert recognizer.calibration == Calibration(2.0, 1.0)
    assert recognizer.model_version == "7"
    predictions = recognizer.predict([drawn_number("12"), drawn_number("345")])
    assert len(predictions) == 2
    for prediction in predictions:
        assert set(prediction.text) <= set(CHARSET)
        assert 0.0 <= prediction.confidence <= 1.0
        assert len(prediction.char_confidences) == len(prediction.text)


def test_bad_model_files(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model_file(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a Digitify model file"):
        load_model_file(junk)
    torch.save({"format": MODEL_FORMAT, "charset": "0123"}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="charset"):
        load_model_file(tmp_path / "other.pt")


def test_a_model_file_of_an_earlier_alphabet_reads_as_it_always_has(tmp_path, drawn_number):
    """Release 4's file (``0-9 .``): its classes keep their scores, the new ones are never read."""
    torch.manual_seed(3)
    model = CRNN(small_config()).eval()
    earlier = EARLIER_CHARSETS[0]
    classes = len(earlier) + 1
    state = {key: value.clone() for key, value in model.state_dict().items()}
    state["head.weight"], state["head.bias"] = state["head.weight"][:classes], state["head.bias"][:classes]
    payload = {
        "format": MODEL_FORMAT,
        "charset": earlier,
        "config": model.config.to_dict(),
        "state_dict": state,
        "calibration": Calibration().to_dict(),
        "metadata": {},
    }
    torch.save(payload, tmp_path / "release4.pt")
    loaded, _, _ = load_model_file(tmp_path / "release4.pt")
    assert torch.all(loaded.head.bias[classes:] == UNTRAINED_CLASS_BIAS)
    images = torch.rand(2, 1, 32, 64)
    with torch.no_grad():
        full = loaded(images)
        model.head = torch.nn.Linear(model.head.in_features, classes)
        model.head.load_state_dict({"weight": state["head.weight"], "bias": state["head.bias"]})
        alone = model(images)
    assert torch.allclose(full[..., :classes], alone, atol=1e-6)
    assert torch.all(full[..., classes:].exp() == 0)
    texts = {p.text for p in Recognizer(loaded).predict([drawn_number("12"), drawn_number("4.5")])}
    assert all(set(text) <= set(earlier) for text in texts)
