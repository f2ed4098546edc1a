"""A short table of the pipeline's outcome for a terminal: the registration decision, which model the
service will serve, that model's figures, and where the service will listen. ``./scripts/run.sh``
prints it after ``dvc repro``.

The figures are the served model's, not always the newly trained one's: when the gate kept the
champion, they are the release's (``release.json`` beside the release file, under ``metrics``) or,
for a champion trained by an earlier run, its gate scores (its test figures are not kept here).

``python -m pipelines.common.training.summary [--params params.yaml] [--port 3000]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.common.params import DEFAULT_PARAMS, load_section

RELEASE_FACTS = "release.json"  # beside the release's model file (scripts/release_model.py writes it)


def served_model(
    evaluation: dict[str, Any], decision: dict[str, Any] | None, release: dict[str, Any] | None
) -> tuple[str, str, dict[str, Any]]:
    """Which model the service will serve, in words; what its figures were measured on; the figures per set."""
    if decision is None:
        return "the model this run trained (not registered)", "test set", evaluation
    if decision["promoted"]:
        return f"v{decision['version']}, the model this run trained", "test set", evaluation
    champion = f"v{decision['champion_version']}"
    if decision.get("champion_release"):
        return f"{champion}, the release ({decision['champion_release']})", "test set", (release or {})
    gate = {
        name: {"n": scores["n"], "exact_match": scores["champion_exact_match"]}
        for name, scores in decision["gate_sets"].items()
    }
    return f"{champion}, trained by an earlier run (its gate scores)", "gate set", gate


def summary_lines(
    evaluation: dict[str, Any], decision: dict[str, Any] | None, port: int, release: dict[str, Any] | None = None
) -> list[str]:
    """The decision, the served model, one row per set it was measured on, and the service address.

    ``evaluation`` holds the newly trained model's figures (``metrics/evaluate.json``), ``release``
    the release's (``release.json``'s ``metrics``).
    """
    served, kind, figures = served_model(evaluation, decision, release)
    rows = [(kind, "n", "exact match", "CER")]
    for name, metrics in figures.items():
        if isinstance(metrics, dict) and "exact_match" in metrics:
            cer = f"{100 * metrics['cer']:.1f} %" if "cer" in metrics else "-"
            rows.append((name, str(metrics["n"]), f"{100 * metrics['exact_match']:.1f} %", cer))
        else:
            rows.append((name, "-", "skipped", "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    table = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    table.insert(1, "  ".join("-" * w for w in widths))
    return [
        f"registration: {decision['reason']}" if decision else "registration: no decision recorded",
        f"served: {served}",
        "",
        *table,
        "",
        f"service: http://localhost:{port} (web page at /, API docs at /docs)",
    ]


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
    release = None
    if decision and decision.get("champion_release"):
        facts = Path(decision["champion_release"]).with_name(RELEASE_FACTS)
        release = json.loads(facts.read_text()).get("metrics") if facts.is_file() else None
    print("\n".join(summary_lines(evaluation, decision, args.port, release)))


if __name__ == "__main__":
    main()
