"""The pipeline's shape: every module a stage imports is covered by that stage's ``dvc.yaml`` deps,
``pipelines/`` holds only stages (and the commands that feed ``data/``) at its top level, and none of
them imports another.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
# Top-level modules that are commands, not stages: they write into data/ (versioned by data.dvc), from a live source.
COMMANDS = ("corrections",)
TOP_LEVEL = sorted([*STAGES, *COMMANDS])

PACKAGE_MARKER = "pipelines/__init__.py"  # a docstring only; asserted below

LOADED_MODULES = """
import importlib, json, os, sys
importlib.import_module(sys.argv[1])
files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
print(json.dumps(sorted(f for f in files if f and os.path.isabs(f))))
"""


@functools.cache
def project_files_imported_by(module: str) -> tuple[str, ...]:
    """The repository's source files (relative paths) loaded by importing ``module`` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, module], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    files = [Path(f).resolve() for f in json.loads(out)]
    return tuple(sorted(str(f.relative_to(REPO)) for f in files if f.is_relative_to(REPO) and ".venv" not in f.parts))


def covered(path: str, deps: list[str]) -> bool:
    """Whether ``path`` is one of ``deps`` or inside a folder among them."""
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_module_a_stage_imports_is_a_dep(stage):
    module = STAGES[stage]["cmd"].split()[-1]
    deps = [d if isinstance(d, str) else next(iter(d)) for d in STAGES[stage]["deps"]]
    imported = project_files_imported_by(module)
    assert f"pipelines/{stage}.py" in imported, f"{stage}: cmd does not run pipelines/{stage}.py"
    missing = [path for path in imported if not covered(path, deps) and path != PACKAGE_MARKER]
    assert not missing, f"dvc.yaml stage {stage!r} imports files its deps do not cover: {missing}"


def test_pipelines_top_level_holds_only_stages_and_commands():
    modules = {p.stem for p in (REPO / "pipelines").glob("*.py")} - {"__init__"}
    assert modules == set(TOP_LEVEL), f"neither a dvc.yaml stage nor a command: {sorted(modules - set(TOP_LEVEL))}"
    assert not set(COMMANDS) & set(STAGES)


@pytest.mark.parametrize("module", TOP_LEVEL)
def test_no_stage_imports_another_stage(module):
    imported = project_files_imported_by(f"pipelines.{module}")
    others = [f"pipelines/{other}.py" for other in TOP_LEVEL if other != module]
    assert not [path for path in imported if path in others], f"{module} imports another stage or command"
    assert not [path for path in imported if path.startswith("service/")], f"{module} imports the service"


def test_the_pipelines_package_marker_holds_no_code():
    tree = ast.parse((REPO / PACKAGE_MARKER).read_text())
    assert all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in tree.body)
