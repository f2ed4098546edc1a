"""Small CRNN settings for tests: every field given here, so tests never lean on code defaults."""

from __future__ import annotations

from typing import Any

from models.crnn import CRNNConfig

SMALL = {
    "cnn_width": 8,
    "lstm_hidden": 16,
    "lstm_layers": 1,
    "dropout": 0.0,
    "learning_rate": 2e-3,
    "weight_decay": 1e-4,
}


def small_config(**changes: Any) -> CRNNConfig:
    """A small, fast CRNN config, with ``changes`` applied."""
    return CRNNConfig.from_params({**SMALL, **changes})
