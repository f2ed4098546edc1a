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
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy.stats import binomtest  # noqa: E402

from benchmarks.ocr_peer import default_sets, parse_set  # noqa: E402
from models.recognizer import ModelFileError, Recognizer  # noqa: E402
from pipelines.common.labelled_folder import LABELS_FILE, FolderError  # noqa: E402
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
            right = {}
            for name, recognizer in recognizers.items():
                evaluated = evaluate_folder(recognizer, folder)
                right[name] = [p == t for p, t in zip(evaluated.predictions, evaluated.labels, strict=True)]
            report[set_name] = compare(right)
    except (ModelFileError, FileNotFoundError, FolderError, EvaluationError) as exc:
        print(f"paired_models: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"base": args.models[0][0], "sets": report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
