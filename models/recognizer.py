"""The Recognizer: images in, strings with calibrated confidences out. Also the model file format.

A model file (``model.pt``) is a plain dict saved with ``torch.save`` and loaded with
``weights_only=True``: the format tag, the charset, the CRNN config, the weights, the
calibration and free-form metadata. Lightning checkpoints are training state; model files are
what gets registered, packaged and served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.calibration import Calibration
from models.charset import CHARSET, EARLIER_CHARSETS
from models.crnn import CRNN, CRNNConfig, output_lengths
from models.decoding import Decoded, beam_decode, greedy_decode
from models.preprocess import ImageSource, collate, normalize

# Version 2: the calibration maps the sum of character log-probabilities (models.decoding).
# Version 3: the config is the whole CRNNConfig (architecture and optimiser settings).
MODEL_FORMAT = "digitify-crnn/3"


# The head's bias for classes a model file was not trained for: their probability is exactly 0
# in fp32, so an older model reads as it always has (its texts and scores unchanged).
UNTRAINED_CLASS_BIAS = -1e4


class ModelFileError(ValueError):
    """A model file is missing, corrupt, or for another charset or format."""


@dataclass(frozen=True)
class Prediction:
    """One recognized string: text, calibrated confidence (0-1) and per-character confidences."""

    text: str
    confidence: float
    char_confidences: list[float]


def save_model_file(
    path: str | Path,
    model: CRNN,
    calibration: Calibration | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (and its calibration and metadata) as a servable model file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": MODEL_FORMAT,
        "charset": CHARSET,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "calibration": (calibration or Calibration()).to_dict(),
        "metadata": metadata or {},
    }
    torch.save(payload, path)
    return path


def random_model_file(path: str | Path, config: CRNNConfig, seed: int = 0) -> Path:
    """Write an untrained model file: any valid model, for tests of code around the model."""
    torch.manual_seed(seed)
    return save_model_file(path, CRNN(config), metadata={"untrained": True})


def load_model_file(path: str | Path) -> tuple[CRNN, Calibration, dict[str, Any]]:
    """Read a model file; return the CRNN in eval mode, its calibration and metadata."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise ModelFileError(f"{path}: model file not found") from exc
    except Exception as exc:
        raise ModelFileError(f"{path}: not a Digitify model file ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path}: not a {MODEL_FORMAT} model file")
    charset = payload["charset"]
    if charset != CHARSET and charset not in EARLIER_CHARSETS:
        raise ModelFileError(f"{path}: trained for charset {charset!r}, this code reads {CHARSET!r}")
    try:
        config = CRNNConfig.from_params(payload["config"])
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    model = CRNN(config)
    model.load_state_dict(with_full_head(payload["state_dict"], len(charset) + 1))
    model.eval()
    return model, Calibration(**payload["calibration"]), dict(payload["metadata"])


def trained_classes(path: str | Path) -> int:
    """How many CTC classes (blank included) a model file was trained for (the first of today's classes)."""
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    return len(payload["charset"]) + 1


def with_full_head(state_dict: dict[str, torch.Tensor], classes: int) -> dict[str, torch.Tensor]:
    """``state_dict`` with its CTC head grown from its first ``classes`` classes to today's alphabet.

    The classes an earlier alphabet lacked get zero weights and ``UNTRAINED_CLASS_BIAS``: never read.
    """
    weight, bias = state_dict["head.weight"], state_dict["head.bias"]
    missing = len(CHARSET) + 1 - classes
    if missing == 0:
        return state_dict
    grown = dict(state_dict)
    grown["head.weight"] = torch.cat([weight, weight.new_zeros(missing, weight.shape[1])])
    grown["head.bias"] = torch.cat([bias, bias.new_full((missing,), UNTRAINED_CLASS_BIAS)])
    return grown


class Recognizer:
    """Reads numbers from images with a trained CRNN."""

    def __init__(
        self,
        model: CRNN,
        calibration: Calibration | None = None,
        model_version: str = "local",
        beam_width: int = 1,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.model = model.eval()
        self.calibration = calibration or Calibration()
        self.model_version = model_version
        self.beam_width = beam_width
        self.metadata = metadata or {}

    @classmethod
    def from_file(cls, path: str | Path, model_version: str = "local", beam_width: int = 1) -> Recognizer:
        """Load a Recognizer from a model file."""
        model, calibration, metadata = load_model_file(path)
        return cls(model, calibration, model_version=model_version, beam_width=beam_width, metadata=metadata)

    def predict(self, images: Sequence[ImageSource], batch_size: int = 64) -> list[Prediction]:
        """Read each image; raises ImageDecodeError or NoInkError on the first bad one."""
        return self.predict_normalized([normalize(image) for image in images], batch_size=batch_size)

    def predict_normalized(self, arrays: Sequence[np.ndarray], batch_size: int = 64) -> list[Prediction]:
        """Read images already passed through ``models.preprocess.normalize``."""
        return [
            Prediction(
                text=decoded.text,
                confidence=self.calibration.confidence(decoded.log_score),
                char_confidences=[round(c, 4) for c in decoded.char_confidences],
            )
            for decoded in self.decode_normalized(arrays, batch_size)
        ]

    @torch.inference_mode()
    def decode_normalized(self, arrays: Sequence[np.ndarray], batch_size: int = 64) -> list[Decoded]:
        """Decode normalized images without calibration (the raw log-scores calibration is fitted on)."""
        decoded: list[Decoded] = []
        for start in range(0, len(arrays), batch_size):
            batch, widths = collate(list(arrays[start : start + batch_size]))
            log_probs = self.model(batch, widths).numpy()  # (T, B, C): each image as if read alone
            for i, length in enumerate(output_lengths(widths).tolist()):
                decoded.append(self.decode(log_probs[:length, i]))
        return decoded

    def decode(self, log_probs: np.ndarray) -> Decoded:
        """Decode one sequence ``(T, C)`` with this recognizer's decoder."""
        if self.beam_width > 1:
            return beam_decode(log_probs, self.beam_width)
        return greedy_decode(log_probs)
