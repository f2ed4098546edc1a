"""A tiny but real ``dvc repro`` of the whole pipeline, with MLflow's real store and registry, and the loop
back from the service: its champion served over HTTP, readings corrected and accepted, exported, retrained on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import mlflow
import pytest
import yaml

from models.registry import CHAMPION_ALIAS, MODEL_NAME
from tests.corrections_fixture import encoded
from tests.drawing import write_pendigits, write_usps
from tests.service.harness import ADMIN, ServiceProcess, login, register, run_python, service_env

ROOT = Path(__file__).resolve().parents[1]
COPIED = ["dvc.yaml", "data.dvc", "package-lock.json", ".dvcignore", "models", "pipelines"]


def merge(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into a copy of ``base``."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def run(command: list[str], cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A copy of the project with the tiny profile, after one ``dvc repro``."""
    root = tmp_path_factory.mktemp("project")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    usps = write_usps(root.parent / "usps-fixture", {"train": 8, "test": 6})
    pendigits = write_pendigits(root.parent / "pendigits-fixture", {"train": 5, "test": 2})
    params = merge(
        yaml.safe_load((ROOT / "params.yaml").read_text()),
        yaml.safe_load((ROOT / "tests/params-tiny.yaml").read_text()),
    )
    params["synthetic_fonts"]["fonts_dir"] = str(ROOT / "node_modules/@fontsource")
    params["handwritten_numbers"]["pools"]["usps_dir"] = str(usps)
    params["paper_numbers"]["pools"]["usps_dir"] = str(usps)
    params["usps_benchmark"]["usps_dir"] = str(usps)
    params["pen_real"]["pendigits_dir"] = str(pendigits)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (root / "data/svhn").mkdir(parents=True)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "PYTHONPATH": str(root),
    }
    run(["git", "init", "-q"], root, env)
    run(["dvc", "init", "-q"], root, env)
    run(["dvc", "repro"], root, env)
    run(["git", "add", "-A"], root, env)
    run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "first run"], root, env)
    return root, env


def test_repro_registers_a_champion_with_its_lineage(project):
    root, env = project
    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
    trained = json.loads((root / "artifacts/model/run.json").read_text())
    sweep = json.loads((root / "artifacts/sweep/best_params.json").read_text())
    assert str(champion.version) == "1"
    assert champion.run_id == trained["run_id"]
    assert champion.tags["decision"] == "promoted"
    assert json.loads(champion.tags["hparams"]) == trained["hparams"]
    assert champion.tags["sweep_parent_run_id"] == sweep["parent_run_id"]
    train_run = client.get_run(trained["run_id"])
    assert train_run.data.tags["digitify.sweep_run_id"] == sweep["parent_run_id"]
    assert "val_exact_match" in train_run.data.metrics
    history = client.get_metric_history(trained["run_id"], "val_loss")
    assert len(history) >= 1
    artifacts = {a.path for a in client.list_artifacts(trained["run_id"])}
    assert "sample_predictions.png" in artifacts


def test_sweep_is_one_parent_with_nested_trials(project):
    root, env = project
    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    client = mlflow.MlflowClient()
    sweep = json.loads((root / "artifacts/sweep/best_params.json").read_text())
    parent = client.get_run(sweep["parent_run_id"])
    children = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        output_format="list",
    )
    assert len(children) == 2 == sweep["n_complete"] + sweep["n_pruned"]
    assert {c.data.tags["optuna.trial_state"] for c in children} <= {"COMPLETE", "PRUNED"}
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} >= {
        "optimization_history.png",
        "sweep_summary.json",
    }
    assert set(sweep["best_params"]) >= {"learning_rate", "cnn_width", "lstm_hidden", "dropout"}


def test_metrics_plots_and_a_clean_status(project):
    root, env = project
    metrics = json.loads((root / "metrics/evaluate.json").read_text())
    forms = {"signed", "decimal_comma", "thousands", "sci_e", "sci_raised"}
    assert set(metrics) == {"fonts", "strokes", "pen_real", "handwritten", "paper", "usps_benchmark"} | forms
    for form in forms:  # gathered from the pen writer, pendigits and the real digits: form_tests (4) each
        assert metrics[form]["n"] == 12, form
    for name, values in metrics.items():
        assert values["n"] > 0, name
        assert 0 <= values["exact_match"] <= 1 and values["cer"] >= 0
        assert "ms_per_image" not in values, "DVC metrics hold no timings"
    for plot in ("accuracy_by_length.json", "confusion.json", "reliability.json", "summary.png"):
        assert (root / "plots" / plot).stat().st_size > 0
    shown = run(["dvc", "metrics", "show", "--json"], root, env)
    assert "usps_benchmark" in shown.stdout
    status = run(["dvc", "status"], root, env)
    assert "up to date" in status.stdout
    again = run(["dvc", "repro"], root, env)
    assert "didn't change, skipping" in again.stdout and "Running stage" not in again.stdout


def test_evaluate_command_uses_the_champion(project):
    root, env = project
    result = run([sys.executable, "-m", "pipelines.evaluate", "--data", "datasets/usps_benchmark/test"], root, env)
    metrics = json.loads(result.stdout)
    assert metrics["model_version"] == "1"
    assert metrics["n"] == 30
    assert {"exact_match", "cer", "ms_per_image", "by_length"} <= set(metrics)


def test_changed_sweep_params_start_a_new_study_and_rerun_only_what_depends_on_them(project):
    root, env = project
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["sweep"]["space"]["dropout"]["high"] = 0.25
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    diff = run(["dvc", "params", "diff"], root, env)
    assert "sweep.space.dropout.high" in diff.stdout
    result = run(["dvc", "repro"], root, env)
    assert "Running stage 'sweep'" in result.stdout
    assert "Running stage 'synthetic_fonts'" not in result.stdout
    first = json.loads((root / "metrics/registration.json").read_text())
    assert first["version"] == "2"
    assert first["champion_version"] == "1"


def test_error_analysis_notebook_runs_top_to_bottom(project):
    import nbformat
    from nbclient import NotebookClient

    root, env = project
    notebook = nbformat.read(ROOT / "notebooks/error_analysis.ipynb", as_version=4)
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    try:
        NotebookClient(
            notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(root)}}
        ).execute()
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI")
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "champion version" in text
    assert "expected calibration error" in text


CORRECTED = ("12", "3.5", "407", "8", "96", "2.25", "71", "650", "4", "19", "0.5", "333")


def corrections_through_the_service(env: dict, work: Path) -> str:
    """Serve this run's champion over HTTP and correct its readings as people would; return the log database.

    The owner corrects twelve readings and one more, an admin accepts the twelve, and a stranger's
    correction is refused; the last correction stays pending (it must not be exported).
    """
    work.mkdir(parents=True, exist_ok=True)
    store = {"MLFLOW_TRACKING_URI": env["MLFLOW_TRACKING_URI"], "BENTOML_HOME": str(work / "bentoml")}
    run_python(["-m", "service.import_model"], store, cwd=work)
    database_url = f"sqlite:///{work / 'predictions.db'}"
    server = ServiceProcess(service_env(database_url, work, store), cwd=work).start()
    try:
        owner = {"Authorization": f"Bearer {register(server.url, 'ann', 'password-of-ann')}"}
        stranger = {"Authorization": f"Bearer {register(server.url, 'bob', 'password-of-bob')}"}
        admin = {"Authorization": f"Bearer {login(server.url, *ADMIN)}"}
        with httpx.Client(base_url=server.url, timeout=60) as client:
            log_ids = []
            for text in (*CORRECTED, "99"):
                read = client.post("/predict", headers=owner, files={"image": ("n.png", encoded(text), "image/png")})
                assert read.status_code == 200, read.text
                log_ids.append(read.json()["log_id"])
                corrected = client.post("/corrections", headers=owner, json={"log_id": log_ids[-1], "text": text})
                assert corrected.status_code == 201, corrected.text
            refused = client.post("/corrections", headers=stranger, json={"log_id": log_ids[0], "text": "1"})
            assert refused.status_code == 403
            for log_id, text in zip(log_ids[:-1], CORRECTED, strict=True):
                accepted = client.post(f"/admin/corrections/{log_id}/accept", headers=admin, json={"text": text})
                assert accepted.status_code == 200, accepted.text
            queue = client.get("/admin/corrections", headers=admin, params={"user": "ann", "status": "accepted"})
            assert queue.json()["total"] == len(CORRECTED)
            assert all(item["image_url"] for item in queue.json()["items"])
    finally:
        server.stop()
    return database_url


def test_corrections_made_over_http_are_versioned_trained_on_evaluated_and_gated(project):
    root, env = project
    database_url = corrections_through_the_service(env, root.parent / "service-side")
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["corrections"]["test_percent"] = 50
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    exported = run([sys.executable, "-m", "pipelines.corrections"], root, {**env, "DATABASE_URL": database_url})
    summary = json.loads(exported.stdout)
    assert summary["train"] > 0 and summary["test"] > 0 and summary["train"] + summary["test"] == 12
    status = json.loads(run(["dvc", "status", "--json"], root, env).stdout)
    for stage in ("svhn", "pack", "evaluate", "register"):
        assert {"changed deps": {"data": "modified"}} in status[stage], (stage, status)
    run(["dvc", "add", "data"], root, env)
    assert yaml.safe_load((root / "data.dvc").read_text())["outs"][0]["nfiles"] == 12 + 2

    result = run(["dvc", "repro"], root, env)

    assert "Running stage 'train'" in result.stdout
    packed = json.loads((root / "artifacts/packed/summary.json").read_text())
    assert packed["train"]["corrections"] == summary["train"] and "corrections" not in packed["val"]
    metrics = json.loads((root / "metrics/evaluate.json").read_text())
    assert metrics["corrections"]["n"] == summary["test"]
    decision = json.loads((root / "metrics/registration.json").read_text())
    gate = decision["gate_sets"]
    assert set(gate) == {"val", "corrections"} and gate["corrections"]["n"] == summary["test"]
    pooled = sum(s["n"] * s["exact_match"] for s in gate.values()) / sum(s["n"] for s in gate.values())
    assert decision["gate_exact_match"] == pytest.approx(pooled, abs=1e-3)
    assert gate["corrections"]["champion_exact_match"] is not None
    assert "up to date" in run(["dvc", "status"], root, env).stdout
