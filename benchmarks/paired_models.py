"""Paired comparison of model files on the same test images; prints one JSON object.

Usage: ``python benchmarks/paired_models.py BASE=FILE OTHER=FILE [...] [--params FILE] [--set NAME=DIR ...]``.
Without ``--set`` the sets are params.yaml's ``evaluate.sets`` (folders without labels.csv are skipped).

Each model reads every image of every set (``pipelines.evaluate.evaluate_folder``). Per set and
model: the exact match, and against the first model the images it reads that the first does not
(``won``) and the reverse (``lost``), with McNemar's exact test on those discordant images
(``p``: two-sided binomial test of ``won`` among ``won + lost`` at one half). Two models of the
same skill differ on a few percent of images by chance; ``p`` says whether a difference in exact
match is more than that. ``standard_error`` is the set's binomial standard error of the first
model's exact match, in points: how far one set's figure may move by the draw of its images.
Exit status 2, with one line, for a missing model file or a bad folder.

Sets composed from real digits (those with a ``digits.csv``: ``handwritten``, ``paper``) reuse each
held-out digit in several numbers, so one misread digit costs several images and the images'
McNemar test overstates a difference. For them ``digits`` gives the same comparison over the distinct
real digits: a digit is misread by a model when any of its occurrences is (characters aligned by
edit distance), and ``won``, ``lost`` and ``p`` count digits instead of images.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.stats import binomtest  # noqa: E402

from benchmarks.ocr_peer import default_sets, parse_set  # noqa: E402
from models.recognizer import ModelFileError, Recognizer  # noqa: E402
from pipelines.common.data.splits import DIGITS_FILE  # noqa: E402
from pipelines.common.labelled_folder import LABELS_FILE, FolderError  # noqa: E402
from pipelines.common.training.scoring import align  # noqa: E402
from pipelines.evaluate import EvaluationError, evaluate_folder  # noqa: E402


def mcnemar(won: int, lost: int) -> float:
    """Two-sided exact McNemar p-value of ``won`` against ``lost`` discordant images."""
    return float(binomtest(won, won + lost).pvalue) if won + lost else 1.0


def compare(right: dict[str, list[bool]]) -> dict[str, dict]:
    """One set's figures: each model's exact match, and its wins, losses and p against the first model."""
    base_name, base = next(iter(right.items()))
    exact = sum(base) / len(base)
    figures: dict[str, dict] = {
        "n": len(base),
        "standard_error": round(100 * math.sqrt(exact * (1 - exact) / len(base)), 2),
    }
    for name, reads in right.items():
        won = sum(r and not b for r, b in zip(reads, base, strict=True))
        lost = sum(b and not r for r, b in zip(reads, base, strict=True))
        figures[name] = {"exact_match": round(sum(reads) / len(reads), 4)}
        if name != base_name:
            figures[name].update(won=won, lost=lost, p=round(mcnemar(won, lost), 4))
    return figures


def misread_digits(predictions: list[str], labels: list[str], digits: list[list[str]]) -> set[str]:
    """The ids of the real digits read wrong in any of their occurrences (``digits``: each label's ids, in order;
    an image whose digits are not all real ones, such as a pen-written one, has none and is passed over).
    """
    misread = set()
    for prediction, label, ids in zip(predictions, labels, digits, strict=True):
        if len(ids) != sum(char.isdigit() for char in label):  # not composed of real digits (pen-written)
            continue
        positions = iter(ids)
        for actual, predicted in align(prediction, label):
            if not actual.isdigit():  # an inserted character, or a point
                continue
            digit = next(positions)
            if predicted != actual:
                misread.add(digit)
    return misread


def compare_digits(misread: dict[str, set[str]], distinct: int) -> dict[str, dict]:
    """The digit-level figures: per model the distinct digits misread, and against the first model
    the digits it reads that the first misreads (``won``), the reverse (``lost``) and McNemar's p.
    """
    base_name, base = next(iter(misread.items()))
    figures: dict[str, dict] = {"n": distinct}
    for name, wrong in misread.items():
        figures[name] = {"misread": len(wrong)}
        if name != base_name:
            won, lost = len(base - wrong), len(wrong - base)
            figures[name].update(won=won, lost=lost, p=round(mcnemar(won, lost), 4))
    return figures


def read_digit_ids(folder: Path) -> list[list[str]] | None:
    """Each image's real digit ids from ``digits.csv``, in labels.csv's order (None without the file)."""
    path = folder / DIGITS_FILE
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        ids = {row["filename"]: row["digits"].split() for row in csv.DictReader(handle)}
    with (folder / LABELS_FILE).open(encoding="utf-8", newline="") as handle:
        return [ids.get(row["filename"], []) for row in csv.DictReader(handle)]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=parse_set, metavar="NAME=FILE", help="the first is the base")
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml", help="where evaluate.sets live")
    parser.add_argument("--set", dest="sets", type=parse_set, action="append", metavar="NAME=DIR")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print its JSON."""
    args = parse_arguments(argv)
    sets = dict(args.sets) if args.sets else default_sets(args.params)[0]
    sets = {name: folder for name, folder in sets.items() if (folder / LABELS_FILE).is_file()}
    try:
        recognizers = {name: Recognizer.from_file(path) for name, path in args.models}
        report = {}
        for set_name, folder in sets.items():
            right, misread = {}, {}
            digits = read_digit_ids(folder)
            for name, recognizer in recognizers.items():
                evaluated = evaluate_folder(recognizer, folder)
                right[name] = [p == t for p, t in zip(evaluated.predictions, evaluated.labels, strict=True)]
                if digits is not None:
                    misread[name] = misread_digits(evaluated.predictions, evaluated.labels, digits)
            report[set_name] = compare(right)
            if digits is not None:
                report[set_name]["digits"] = compare_digits(misread, len({d for ids in digits for d in ids}))
    except (ModelFileError, FileNotFoundError, FolderError, EvaluationError) as exc:
        print(f"paired_models: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"base": args.models[0][0], "sets": report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
