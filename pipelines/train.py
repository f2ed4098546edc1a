"""Stage ``train``: train the final CRNN on the packed data, tracked in MLflow.

Hyperparameters come from ``params.yaml: model``, overridden by the sweep's best parameters
(``artifacts/sweep/best_params.json``) when ``use_sweep`` is true. ``source_weights`` oversamples
sources (the people's corrections above all): each of their images is drawn that many times per
epoch. The confidence calibration is fitted on the validation images of ``calibration_sources``
(the real-like ones; empty or absent: every source, or every source anyway when they hold too few
images). Writes the model file, its calibration and ``run.json`` (the MLflow run and logged-model
URI) to ``output``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import torch
from lightning.pytorch.loggers import MLFlowLogger

from models.crnn import CRNNConfig
from models.recognizer import Recognizer, save_model_file
from models.registry import log_model_file
from pipelines.common.params import load_section, start_stage
from pipelines.common.training.packed_data import PackedSet
from pipelines.common.training.run import RunSettings, calibrate, fit, resolve_precision

log = logging.getLogger("pipelines.train")


def resolve_config(params: dict[str, Any], model: dict[str, Any]) -> tuple[CRNNConfig, dict[str, Any]]:
    """The model settings to train with (``params.yaml: model``, with the sweep's best parameters
    over it when ``use_sweep``), and the sweep summary they came from (or {}).
    """
    config = CRNNConfig.from_params(model)
    sweep_file = Path(params["sweep_result"])
    if params["use_sweep"] and sweep_file.is_file():
        sweep = json.loads(sweep_file.read_text())
        return config.replace(**sweep["best_params"]), sweep
    return config, {}


def sample_grid(recognizer: Recognizer, val: PackedSet, count: int = 16) -> plt.Figure:
    """A figure of validation images with their predictions (green right, red wrong)."""
    count = min(count, len(val))
    images = [val.image(i) for i in range(count)]
    predictions = recognizer.predict_normalized(images)
    figure, axes = plt.subplots(count // 2 + count % 2, 2, figsize=(8, count * 0.6))
    for axis, image, prediction, label in zip(axes.flat, images, predictions, val.labels, strict=False):
        axis.imshow(image, cmap="gray_r")
        right = prediction.text == label
        axis.set_title(
            f"{prediction.text!r} ({prediction.confidence:.2f}) / {label!r}",
            color="green" if right else "red",
            fontsize=8,
        )
        axis.axis("off")
    for axis in list(axes.flat)[count:]:
        axis.axis("off")
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> None:
    """Train, calibrate, save and log the model."""
    params, args = start_stage("train", __doc__.splitlines()[0], argv)
    torch.set_num_threads(params.get("threads", 2))
    output = Path(params["output"])
    output.mkdir(parents=True, exist_ok=True)
    packed = Path(params["packed_dir"])
    train, val = PackedSet.load(packed / "train.npz"), PackedSet.load(packed / "val.npz")
    config, sweep = resolve_config(params, load_section("model", args.params))
    calibration_sources = list(params.get("calibration_sources") or [])
    hparams = config.to_dict()
    per_source = {name: train.sources.count(name) for name in sorted(set(train.sources))}
    log.info(
        "training on %d images %s (weights %s), validating on %d, with %s",
        len(train),
        per_source,
        params["source_weights"],
        len(val),
        hparams,
    )

    mlflow.set_experiment(params["experiment"])
    with mlflow.start_run(run_name="train") as run:
        mlflow.set_tags(
            {"digitify.stage": "train", **({"digitify.sweep_run_id": sweep["parent_run_id"]} if sweep else {})}
        )
        precision = resolve_precision(params.get("precision", "auto"))
        mlflow.log_params(
            {
                **hparams,
                "train_images": len(train),
                "val_images": len(val),
                "seed": params["seed"],
                "precision": precision,
                "jitter": params["jitter"],
                "source_weights": json.dumps(params["source_weights"], sort_keys=True),
                "init_from": params["init_from"] or "",
                "calibration_sources": ",".join(calibration_sources),
            }
        )
        logger = MLFlowLogger(tracking_uri=mlflow.get_tracking_uri(), run_id=run.info.run_id)
        settings = RunSettings(
            max_epochs=params["max_epochs"],
            monitor=params["monitor"],
            init_from=Path(params["init_from"]) if params["init_from"] else None,
            batch_size=params["batch_size"],
            patience=params["patience"],
            seed=params["seed"],
            precision=precision,
            jitter=params["jitter"],
            source_weights=params["source_weights"],
            checkpoint_dir=output / "checkpoints",
            logger=logger,
        )
        module, best_score = fit(train, val, config, settings)
        calibration = calibrate(module, val, calibration_sources)
        metadata = {"run_id": run.info.run_id, "hparams": hparams, "val_exact_match": best_score}
        model_path = save_model_file(output / "model.pt", module.model, calibration, metadata)
        info = log_model_file(model_path)
        recognizer = Recognizer(module.model, calibration)
        mlflow.log_figure(sample_grid(recognizer, val), "sample_predictions.png")
        mlflow.log_metric("best_val_exact_match", best_score)
        summary = {
            "run_id": run.info.run_id,
            "model_uri": info.model_uri,
            "best_val_exact_match": best_score,
            "hparams": hparams,
            "config": config.to_dict(),
            "calibration": calibration.to_dict(),
            "calibration_sources": calibration_sources,
            "sweep_parent_run_id": sweep.get("parent_run_id"),
        }
    (output / "run.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("best validation exact match %.4f; logged as %s", best_score, info.model_uri)


if __name__ == "__main__":
    main()
