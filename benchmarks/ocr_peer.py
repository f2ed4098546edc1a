"""Peer benchmark: our CRNN beside RapidOCR 3.10 on the same labelled test folders; prints one JSON object.

Usage: ``python benchmarks/ocr_peer.py [--model FILE] [--set NAME=DIR ...] [--limit N] [--threads N]``.
Without ``--set`` the sets are params.yaml's ``evaluate.sets`` (folders without labels.csv are skipped);
``--model`` defaults to params.yaml's ``evaluate.model``.

Our model runs here, in the main virtualenv. RapidOCR runs in a subprocess with the python of its
own virtualenv ``.venv-ocr-peer`` (``bash scripts/setup_ocr_peer.sh`` creates it), so the two sets
of packages never mix; that subprocess is this same file with ``--peer-worker``, which imports only
the standard library and RapidOCR. RapidOCR is used for recognition only (``use_det=False``,
``use_cls=False``): each image is one text line, as our model assumes.

Scoring, as ``pipelines.evaluate`` scores: exact match of the text (``models.metrics.exact_match``)
and of the number it means (``value_exact_match``: ``models.number_value``, rule ``auto``, so that
``1,250`` and ``1250`` or ``12,5`` and ``12.5`` are the same number) against labels.csv. RapidOCR's
charset is far larger than ours, so its text is first mapped onto our alphabet by
:func:`normalise_text`. ``exact_match_raw`` is the text's score without that mapping.

Timing: one image per call for both, including reading the file, after one warm-up call, on
``--threads`` CPU threads (torch's for ours, onnxruntime's for RapidOCR); model loading excluded.
Logs go to stderr. Exit status 2, with one line, for a missing peer virtualenv or a bad folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PEER_VENV = ROOT / ".venv-ocr-peer"
PEER_SETUP = "bash scripts/setup_ocr_peer.sh"
CHARSET = "0123456789.,-+e×^"  # models.charset.CHARSET (the peer's python cannot import models; a test checks)
LABELS_FILE = "labels.csv"

log = logging.getLogger("benchmarks.ocr_peer")


class BenchmarkError(RuntimeError):
    """The benchmark cannot run; the message says why in one line."""


@dataclass(frozen=True)
class LabelledImage:
    """One row of a labelled folder: the image path and its label."""

    path: Path
    label: str


SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺"
RAISED_RUN = re.compile(f"[{SUPERSCRIPTS}]+")
FROM_SUPERSCRIPT = str.maketrans(SUPERSCRIPTS, "0123456789-+")
ONTO_OUR_MARKS = str.maketrans({"−": "-", "–": "-", "—": "-", "E": "e", "x": "×", "X": "×", "*": "×"})


def normalise_text(text: str) -> str:
    """Map RapidOCR's raw text onto our alphabet ``0123456789.,-+e×^``, as our labels are written.

    A run of superscript characters is a raised exponent (``10²³`` becomes ``10^23``); then NFKC
    (full-width ``１２．５`` becomes ``12.5``); dashes and the minus sign become ``-``, ``E`` becomes
    ``e``, and ``x``, ``X`` and ``*`` become ``×``; every other character outside the alphabet
    goes (spaces, letters, other punctuation).
    """
    raised = RAISED_RUN.sub(lambda run: "^" + run.group().translate(FROM_SUPERSCRIPT), text)
    folded = unicodedata.normalize("NFKC", raised).translate(ONTO_OUR_MARKS)
    return "".join(char for char in folded if char in CHARSET)


def read_labels(folder: Path, limit: int | None = None) -> list[LabelledImage]:
    """Read a labelled folder with the pipeline's reader; the first ``limit`` rows if given.

    Raises BenchmarkError (naming the file and row) for a missing or malformed ``labels.csv``,
    a label outside the charset or a missing image.
    """
    from pipelines.common.labelled_folder import FolderError, read_folder

    try:
        samples = read_folder(folder)
    except FolderError as exc:
        raise BenchmarkError(str(exc)) from exc
    return [LabelledImage(sample.path, sample.label) for sample in samples[:limit]]


def parse_set(text: str) -> tuple[str, Path]:
    """Parse one ``--set NAME=DIR`` value."""
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {text!r}")
    return name, Path(folder)


def default_sets(params_path: Path) -> tuple[dict[str, Path], Path | None]:
    """The test sets and model path of params.yaml's ``evaluate`` section, relative to its folder."""
    import yaml

    with params_path.open(encoding="utf-8") as handle:
        section = (yaml.safe_load(handle) or {}).get("evaluate", {})
    base = params_path.resolve().parent
    model = section.get("model")
    return {name: base / folder for name, folder in section.get("sets", {}).items()}, base / model if model else None


def run_ours(model_path: Path, sets: dict[str, list[LabelledImage]], threads: int) -> dict[str, dict[str, float]]:
    """Read every image with our model, one per call; exact match and ms per image for each set.

    Follows ``pipelines.evaluate.evaluate_folder``: an image with no ink is an empty prediction.
    """
    import torch

    from models.metrics import exact_match, value_exact_match
    from models.preprocess import ImageDecodeError, NoInkError, normalize
    from models.recognizer import ModelFileError, Recognizer

    torch.set_num_threads(threads)
    try:
        recognizer = Recognizer.from_file(model_path)
    except ModelFileError as exc:
        raise BenchmarkError(str(exc)) from exc

    def read_one(path: Path) -> str:
        try:
            array = normalize(path)
        except NoInkError:
            return ""
        except ImageDecodeError as exc:
            raise BenchmarkError(f"{path}: {exc}") from exc
        return recognizer.predict_normalized([array], batch_size=1)[0].text

    first = next(iter(sets.values()))[0]
    read_one(first.path)
    results = {}
    for name, rows in sets.items():
        started = time.perf_counter()
        predictions = [read_one(row.path) for row in rows]
        elapsed = time.perf_counter() - started
        labels = [row.label for row in rows]
        results[name] = {
            "exact_match": round(exact_match(predictions, labels), 4),
            "value_exact_match": round(value_exact_match(predictions, labels), 4),
            "ms_per_image": round(1000 * elapsed / len(rows), 3),
        }
        log.info("ours %s: %s", name, json.dumps(results[name]))
    return results


def run_peer(peer_python: Path, sets: dict[str, list[LabelledImage]], threads: int) -> dict[str, Any]:
    """Run RapidOCR on every image in a subprocess of the peer virtualenv; score each set here.

    Returns ``{"versions": {...}, "sets": {name: {exact_match, value_exact_match, exact_match_raw, ms_per_image,
    errors}}}``.
    """
    from models.metrics import exact_match, value_exact_match

    paths = [str(row.path) for rows in sets.values() for row in rows]
    with tempfile.TemporaryDirectory(prefix="ocr-peer-") as tmp:
        job, output = Path(tmp) / "job.json", Path(tmp) / "result.json"
        job.write_text(json.dumps({"threads": threads, "paths": paths}), encoding="utf-8")
        command = [str(peer_python), str(Path(__file__).resolve()), "--peer-worker", str(job), str(output)]
        completed = subprocess.run(command, stdout=sys.stderr, check=False)
        if completed.returncode != 0 or not output.is_file():
            raise BenchmarkError(f"RapidOCR worker failed with exit status {completed.returncode} (see its log above)")
        answer = json.loads(output.read_text(encoding="utf-8"))
    texts, seconds, errors = iter(answer["texts"]), iter(answer["seconds"]), iter(answer["errors"])
    results = {}
    for name, rows in sets.items():
        raw = [next(texts) for _ in rows]
        elapsed = sum(next(seconds) for _ in rows)
        failed = sum(bool(next(errors)) for _ in rows)
        labels = [row.label for row in rows]
        normalised = [normalise_text(t) for t in raw]
        results[name] = {
            "exact_match": round(exact_match(normalised, labels), 4),
            "value_exact_match": round(value_exact_match(normalised, labels), 4),
            "exact_match_raw": round(exact_match(raw, labels), 4),
            "ms_per_image": round(1000 * elapsed / len(rows), 3),
            "errors": failed,
        }
        log.info("rapidocr %s: %s", name, json.dumps(results[name]))
        misread = [(row, text) for row, text in zip(rows, raw, strict=True) if normalise_text(text) != row.label]
        for row, text in misread[:5]:
            log.info("rapidocr %s: %s label %r, raw text %r", name, row.path.name, row.label, text)
        foreign = sorted({char for text in raw for char in text if char not in CHARSET})
        if foreign:
            log.info("rapidocr %s: characters outside our charset in its raw text: %r", name, "".join(foreign))
    return {"versions": answer["versions"], "sets": results}


def peer_worker(job_path: Path, output_path: Path) -> int:
    """The RapidOCR side, run by the peer virtualenv's python: read every image of the job file.

    Writes ``{"versions", "texts", "seconds", "errors"}`` (one entry per image, in order) to
    ``output_path``. An image RapidOCR fails on reads as empty text and its error is kept.
    """
    from importlib.metadata import version

    from rapidocr import RapidOCR

    job = json.loads(job_path.read_text(encoding="utf-8"))
    threads = int(job["threads"])
    engine = RapidOCR(
        params={
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )

    def read_one(path: str) -> str:
        result = engine(path, use_det=False, use_cls=False, use_rec=True)
        return "".join(getattr(result, "txts", None) or ())

    texts, seconds, errors = [], [], []
    if job["paths"]:
        read_one(job["paths"][0])
    for path in job["paths"]:
        started = time.perf_counter()
        try:
            text, error = read_one(path), ""
        except Exception as exc:
            text, error = "", f"{type(exc).__name__}: {exc}"
            print(f"rapidocr: {path}: {error}", file=sys.stderr)
        seconds.append(time.perf_counter() - started)
        texts.append(text)
        errors.append(error)
    rec = engine.cfg.Rec
    versions = {
        "rapidocr": version("rapidocr"),
        "onnxruntime": version("onnxruntime"),
        "rapidocr_model": f"{rec.ocr_version.value} rec {rec.model_type.value} ({rec.lang_type.value})",
    }
    answer = {"versions": versions, "texts": texts, "seconds": seconds, "errors": errors}
    output_path.write_text(json.dumps(answer), encoding="utf-8")
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml", help="where evaluate.sets/model live")
    parser.add_argument("--model", type=Path, help="our model file (default: params.yaml evaluate.model)")
    parser.add_argument(
        "--set",
        dest="sets",
        type=parse_set,
        action="append",
        metavar="NAME=DIR",
        help="a labelled folder to benchmark; repeatable (default: params.yaml evaluate.sets)",
    )
    parser.add_argument("--limit", type=int, help="at most N images per set (the first N rows of labels.csv)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for each model (default 1)")
    parser.add_argument(
        "--peer-python", type=Path, default=PEER_VENV / "bin" / "python", help="python of the RapidOCR virtualenv"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = parse_arguments(argv)
    if not args.peer_python.is_file():
        print(f"error: {args.peer_python} not found; create it with: {PEER_SETUP}", file=sys.stderr)
        return 2
    try:
        configured, configured_model = default_sets(args.params) if args.params.is_file() else ({}, None)
        model = args.model or configured_model
        if model is None:
            raise BenchmarkError(f"no --model and no {args.params} to take evaluate.model from")
        if args.sets:
            folders = dict(args.sets)
        else:
            folders = {}
            for name, folder in configured.items():
                if (folder / LABELS_FILE).is_file():
                    folders[name] = folder
                else:
                    log.warning("%s: no labels.csv in %s; skipped", name, folder)
        if not folders:
            raise BenchmarkError("no labelled test folder to benchmark (build the datasets or pass --set NAME=DIR)")
        sets = {name: read_labels(folder, args.limit) for name, folder in folders.items()}
        log.info("sets: %s", ", ".join(f"{name} ({len(rows)})" for name, rows in sets.items()))
        ours = run_ours(model, sets, args.threads)
        peer = run_peer(args.peer_python, sets, args.threads)
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = {
        "model": str(model),
        "threads": args.threads,
        "limit": args.limit,
        **peer["versions"],
        "sets": {
            name: {"n": len(rows), "ours": ours[name], "rapidocr": peer["sets"][name]} for name, rows in sets.items()
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    if len(sys.argv) == 4 and sys.argv[1] == "--peer-worker":
        sys.exit(peer_worker(Path(sys.argv[2]), Path(sys.argv[3])))
    sys.exit(main())
