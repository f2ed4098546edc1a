"""Load a stage's section of ``params.yaml``: the pipeline's one config source.

It sits at the top of :mod:`pipelines.common`, in none of its three packages, because every stage
of every job (data making, training, the corrections export) starts through it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PARAMS = Path("params.yaml")


def load_section(section: str, path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    """Return ``params.yaml[section]``; raise SystemExit with a clear message if it is missing."""
    path = Path(path)
    if not path.is_file():
        raise SystemExit(f"error: {path}: parameters file not found")
    with path.open(encoding="utf-8") as handle:
        params = yaml.safe_load(handle) or {}
    if section not in params:
        raise SystemExit(f"error: {path}: no section {section!r}")
    return params[section]


def stage_arguments(description: str) -> argparse.ArgumentParser:
    """An argument parser every stage shares: ``--params`` points at the parameters file."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", type=Path, default=DEFAULT_PARAMS, help="parameters file (default: params.yaml)")
    return parser


def start_stage(
    section: str, description: str, argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None
) -> tuple[dict[str, Any], argparse.Namespace]:
    """Open a stage: parse its arguments (``--params`` and any the stage added to ``parser``), send
    log lines to stderr, and return its section of the parameters file with the parsed arguments.
    """
    args = (parser or stage_arguments(description)).parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    return load_section(section, args.params), args
