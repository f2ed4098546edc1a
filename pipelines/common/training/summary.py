"""A short table of the pipeline's outcome for a terminal: exact match per test set, the registration
decision, and where the service will listen. ``./scripts/run.sh`` prints it after ``dvc repro``.

``python -m pipelines.common.training.summary [--params params.yaml] [--port 3000]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.common.params import DEFAULT_PARAMS, load_section


def summary_lines(evaluation: dict[str, Any], decision: dict[str, Any] | None, port: int) -> list[str]:
    """The table's lines: one row per evaluated test set, then the decision and the service address."""
    rows = [("test set", "n", "exact match", "CER")]
    for name, metrics in evaluation.items():
        if isinstance(metrics, dict) and "exact_match" in metrics:
            rows.append(
                (name, str(metrics["n"]), f"{100 * metrics['exact_match']:.1f} %", f"{100 * metrics['cer']:.1f} %")
            )
        else:
            rows.append((name, "-", "skipped", "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"registration: {decision['reason']}" if decision else "registration: no decision recorded")
    lines.append(f"service: http://localhost:{port} (web page at /, API docs at /docs)")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Print the table for the last ``dvc repro``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS)
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)
    evaluation_file = Path(load_section("evaluate", args.params)["metrics"])
    decision_file = Path(load_section("register", args.params)["decision_file"])
    evaluation = json.loads(evaluation_file.read_text()) if evaluation_file.is_file() else {}
    decision = json.loads(decision_file.read_text()) if decision_file.is_file() else None
    print("\n".join(summary_lines(evaluation, decision, args.port)))


if __name__ == "__main__":
    main()
