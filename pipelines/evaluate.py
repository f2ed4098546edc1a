"""Evaluate a model on labelled folders.

As a command: ``python -m pipelines.evaluate --data DIR [--model URI]`` evaluates the champion
(or any MLflow model URI or model file) on any labelled folder and prints one JSON object.
As the DVC stage (no ``--data``): evaluates the freshly trained model on every source's test
split and the USPS benchmark, and writes ``metrics/evaluate.json`` and the plots. The metrics file
holds no timings (they change on every run and would make ``dvc metrics diff`` noisy; the command
prints ``ms_per_image``, and ``benchmarks/`` measure speed).
Problems with the input (missing labels.csv, unreadable image, label outside the charset) end
with one line naming the file and row, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from models.preprocess import ImageDecodeError, NoInkError, normalize
from models.recognizer import ModelFileError, Recognizer
from models.registry import CHAMPION_URI
from pipelines.common.labelled_folder import LABELS_FILE, FolderError, read_folder
from pipelines.common.params import DEFAULT_PARAMS, load_section
from pipelines.common.training.scoring import confusion_rows, reliability, score

log = logging.getLogger("pipelines.evaluate")


class EvaluationError(RuntimeError):
    """Evaluation cannot go on; the message says why in one line."""


@dataclass
class Evaluated:
    """The outcome of one folder: its metrics, the raw predictions behind them, and how long it took."""

    metrics: dict
    predictions: list[str]
    labels: list[str]
    confidences: list[float]
    ms_per_image: float


def evaluate_folder(recognizer: Recognizer, folder: str | Path, batch_size: int = 64) -> Evaluated:
    """Read every image of a labelled folder and score the predictions.

    An image with no ink counts as an empty (wrong) prediction; an undecodable one is an error.
    """
    samples = read_folder(folder)
    predictions: list[str] = []
    confidences: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        arrays, readable = [], []
        for sample in chunk:
            try:
                arrays.append(normalize(sample.path))
                readable.append(True)
            except NoInkError:
                readable.append(False)
            except ImageDecodeError as exc:
                raise EvaluationError(
                    f"{Path(folder) / LABELS_FILE}, row {sample.row}: {sample.path.name}: {exc}"
                ) from exc
        results = iter(recognizer.predict_normalized(arrays, batch_size=batch_size))
        for ok in readable:
            prediction = next(results) if ok else None
            predictions.append(prediction.text if prediction else "")
            confidences.append(prediction.confidence if prediction else 0.0)
    elapsed = time.perf_counter() - started
    labels = [sample.label for sample in samples]
    metrics = score(predictions, labels, confidences)
    return Evaluated(metrics, predictions, labels, confidences, round(1000 * elapsed / len(samples), 3))


def load_recognizer(uri: str, beam_width: int = 1) -> Recognizer:
    """Load a model by MLflow URI (``models:/...``, ``runs:/...``) or model file path."""
    from models.registry import fetch_model_file

    try:
        path, version = fetch_model_file(uri)
        return Recognizer.from_file(path, model_version=version, beam_width=beam_width)
    except ModelFileError as exc:
        raise EvaluationError(str(exc)) from exc
    except Exception as exc:
        raise EvaluationError(f"cannot load model {uri!r}: {exc}") from exc


def write_plots(plots_dir: Path, per_set: dict[str, Evaluated]) -> None:
    """DVC plot data (accuracy by length, confusion, reliability) and static PNG versions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots_dir.mkdir(parents=True, exist_ok=True)
    predictions = [p for e in per_set.values() for p in e.predictions]
    labels = [t for e in per_set.values() for t in e.labels]
    confidences = [c for e in per_set.values() for c in e.confidences]
    by_length = [
        {"set": name, "length": int(length), "exact_match": row["exact_match"], "n": row["n"]}
        for name, evaluated in per_set.items()
        for length, row in evaluated.metrics["by_length"].items()
    ]
    _, table = reliability(confidences, [p == t for p, t in zip(predictions, labels, strict=True)])
    confusion = confusion_rows(predictions, labels)
    (plots_dir / "accuracy_by_length.json").write_text(json.dumps(by_length, indent=1))
    (plots_dir / "reliability.json").write_text(json.dumps(table, indent=1))
    (plots_dir / "confusion.json").write_text(json.dumps(confusion))

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name in per_set:
        rows = [r for r in by_length if r["set"] == name]
        axes[0].plot([r["length"] for r in rows], [r["exact_match"] for r in rows], marker="o", label=name)
    axes[0].set(xlabel="label length", ylabel="exact match", title="Accuracy by length", ylim=(0, 1.02))
    axes[0].legend(fontsize=7)
    axes[1].plot([0, 1], [0, 1], color="grey", linestyle="--")
    axes[1].plot([r["confidence"] for r in table], [r["accuracy"] for r in table], marker="o")
    axes[1].set(xlabel="confidence", ylabel="accuracy", title="Reliability", xlim=(0, 1), ylim=(0, 1))
    figure.tight_layout()
    figure.savefig(plots_dir / "summary.png", dpi=100)
    plt.close(figure)


def run_stage(params_path: Path) -> None:
    """The DVC stage: evaluate the trained model on every configured test set."""
    params = load_section("evaluate", params_path)
    recognizer = Recognizer.from_file(params["model"], beam_width=params.get("beam_width", 1))
    per_set: dict[str, Evaluated] = {}
    for name, folder in params["sets"].items():
        if not (Path(folder) / LABELS_FILE).is_file():
            log.warning("%s: no labelled folder at %s; skipped", name, folder)
            continue
        per_set[name] = evaluate_folder(recognizer, folder)
        shown = {k: v for k, v in per_set[name].metrics.items() if k != "by_length"}
        log.info("%s: %s", name, json.dumps({**shown, "ms_per_image": per_set[name].ms_per_image}))
    metrics_path = Path(params["metrics"])
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps({name: e.metrics for name, e in per_set.items()}, indent=2) + "\n")
    write_plots(Path(params["plots"]), per_set)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description="Evaluate a Digitify model on a labelled folder.")
    parser.add_argument("--data", type=Path, help="labelled folder (labels.csv + images); omit to run the DVC stage")
    parser.add_argument(
        "--model", default=CHAMPION_URI, help=f"MLflow model URI or model file (default {CHAMPION_URI})"
    )
    parser.add_argument("--beam", type=int, default=1, help="CTC beam width (1 = greedy)")
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS, help="parameters file for the stage mode")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_arguments(argv)
    try:
        if args.data is None:
            run_stage(args.params)
            return 0
        read_folder(args.data)
        recognizer = load_recognizer(args.model, beam_width=args.beam)
        evaluated = evaluate_folder(recognizer, args.data)
    except (FolderError, EvaluationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = {"data": str(args.data), "model": args.model, "model_version": recognizer.model_version}
    print(json.dumps({**result, **evaluated.metrics, "ms_per_image": evaluated.ms_per_image}, indent=2))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    sys.exit(main())
