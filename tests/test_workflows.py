"""The GitHub workflows parse, and each job sets up through the project's own scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

WORKFLOWS = sorted((Path(__file__).resolve().parent.parent / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_is_valid_yaml_with_jobs_of_named_steps(path):
    workflow = yaml.safe_load(path.read_text())
    assert isinstance(workflow, dict), f"{path.name} is not a YAML mapping"
    assert workflow.get("jobs"), f"{path.name} has no jobs"
    for name, job in workflow["jobs"].items():
        steps = job["steps"]
        assert steps, f"{path.name}: job {name} has no steps"
        assert all(isinstance(step, dict) and ("run" in step or "uses" in step) for step in steps)
        runs = " ".join(step.get("run", "") for step in steps)
        assert "scripts/setup.sh" in runs or "scripts/test.sh" in runs, f"{path.name}: {name} skips the project's setup"


def test_the_ci_workflow_runs_the_readme_test_command():
    ci = yaml.safe_load((WORKFLOWS[0].parent / "ci.yml").read_text())
    commands = [step.get("run", "") for job in ci["jobs"].values() for step in job["steps"]]
    assert any("scripts/test.sh" in command for command in commands)
