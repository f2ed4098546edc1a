"""A small model trained for real in the test session, for tests that need one that reads numbers.

It learns canvas-like pen-stroke numbers (the ``pen_strokes`` source) for about a minute on
two cores: enough to read a cleanly drawn number, which is what the gate, service and browser
tests need. Accuracy itself is measured by the pipeline and the benchmarks, not here.
"""

from __future__ import annotations

from pathlib import Path

import torch
import yaml

from models.recognizer import save_model_file
from pipelines import pen_strokes
from pipelines.common.training.packed_data import PackedSet, pack_folders
from pipelines.common.training.run import RunSettings, calibrate, fit
from tests.configs import small_config

CONFIG = small_config(cnn_width=16, lstm_hidden=96, learning_rate=4e-3)


def stroke_params(output: Path, train: int, val: int) -> dict:
    """The pen_strokes section of params.yaml, resized: short, mostly clean canvas numbers."""
    params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text())["pen_strokes"]
    params.update(
        output_dir=str(output),
        counts={"train": train, "val": val, "test": 1},
        max_length=4,
        clean_fraction=0.7,
        decimal_fraction=0.2,
        decoration_fraction={"train": 0.0, "val": 0.0, "test": 0.0},
        seed=123,
    )
    return params


def train_small_model(workdir: Path, epochs: int = 8, train: int = 3000) -> tuple[Path, PackedSet]:
    """Generate stroke data, train, calibrate; return the model file and the packed validation set."""
    torch.set_num_threads(2)
    pen_strokes.generate(stroke_params(workdir / "strokes", train, 300))
    train_set = pack_folders({"strokes": workdir / "strokes" / "train"})
    val_set = pack_folders({"strokes": workdir / "strokes" / "val"})
    settings = RunSettings(max_epochs=epochs, batch_size=32, patience=epochs, progress_bar=False)
    module, score = fit(train_set, val_set, CONFIG, settings)
    calibration = calibrate(module, val_set)
    path = save_model_file(workdir / "model.pt", module.model, calibration, {"val_exact_match": score})
    return path, val_set
