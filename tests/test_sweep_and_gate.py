"""The sweep (pruning, resuming) and the promotion gate, on MLflow's real store and Optuna's real storage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import optuna
import pytest
import torch
import yaml
from optuna.trial import TrialState, create_trial

from models.charset import EARLIER_CHARSETS
from models.lit_crnn import LitCRNN
from models.recognizer import load_model_file, random_model_file, save_model_file
from models.registry import CHAMPION_ALIAS, MODEL_NAME, log_model_file
from pipelines import register, sweep
from pipelines.common.training.run import RunSettings, fit, resolve_precision, start_from
from tests.configs import small_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tracking(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    return uri


def write_params(path: Path, **sections: dict) -> Path:
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name, values in sections.items():
        base[name] = {**base[name], **values}
    path.write_text(yaml.safe_dump(base))
    return path


def log_run(model_path: Path) -> dict:
    """Log a model file as a training run would, and return the run summary the register stage reads."""
    mlflow.set_experiment("digitify")
    with mlflow.start_run() as run:
        info = log_model_file(model_path)
    return {"run_id": run.info.run_id, "model_uri": info.model_uri, "hparams": {}, "sweep_parent_run_id": None}


def test_worse_model_is_registered_but_does_not_take_the_alias(tmp_path, tracking, trained_model):
    good_file, val = trained_model
    val_path = tmp_path / "val.npz"
    val.save(val_path)
    crippled, _ = fit(
        val,
        val,
        small_config(lstm_hidden=32, learning_rate=1e-7),
        RunSettings(max_epochs=1, progress_bar=False),
    )
    crippled_file = save_model_file(tmp_path / "crippled.pt", crippled.model)

    decisions = []
    for name, model_file in (("good", good_file), ("crippled", crippled_file)):
        run_file = tmp_path / f"{name}.json"
        run_file.write_text(json.dumps(log_run(model_file)))
        decision_file = tmp_path / f"{name}-decision.json"
        params = write_params(
            tmp_path / f"{name}.yaml",
            register={
                "run_file": str(run_file),
                "val_data": str(val_path),
                "decision_file": str(decision_file),
                "release": None,
                "gate_folders": {},
            },
        )
        register.main(["--params", str(params)])
        decisions.append(json.loads(decision_file.read_text()))

    good, worse = decisions
    assert good["promoted"] and good["champion_version"] is None and good["gate_exact_match"] > 0.5
    assert not worse["promoted"]
    assert worse["version"] == "2" and worse["champion_version"] == "1" and worse["champion_release"] is None
    assert worse["gate_exact_match"] < good["gate_exact_match"]
    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version) == "1"
    assert client.get_model_version(MODEL_NAME, "2").tags["decision"] == "not promoted"
    assert "does not beat champion v1" in client.get_model_version(MODEL_NAME, "2").tags["decision_reason"]


def test_a_fresh_store_starts_from_the_release_and_keeps_the_better(tmp_path, tracking, trained_model):
    good_file, val = trained_model
    val_path = tmp_path / "val.npz"
    val.save(val_path)
    crippled, _ = fit(val, val, small_config(learning_rate=1e-7), RunSettings(max_epochs=1, progress_bar=False))
    release_file = save_model_file(tmp_path / "release.pt", crippled.model)
    decisions = []
    for name, model_file in (("good", good_file), ("again", release_file)):
        run_file = tmp_path / f"{name}.json"
        run_file.write_text(json.dumps(log_run(model_file)))
        decision_file = tmp_path / f"{name}-decision.json"
        register_section = {
            "run_file": str(run_file),
            "val_data": str(val_path),
            "decision_file": str(decision_file),
            "release": str(release_file),
            "gate_folders": {},
        }
        register.main(["--params", str(write_params(tmp_path / f"{name}.yaml", register=register_section))])
        decisions.append(json.loads(decision_file.read_text()))

    good, again = decisions
    assert good["champion_version"] == "1" and good["version"] == "2" and good["promoted"]
    assert good["champion_release"] == str(release_file) and again["champion_release"] is None
    assert not again["promoted"] and again["champion_version"] == "2", "the release is registered only once"
    client = mlflow.MlflowClient()
    assert client.get_model_version(MODEL_NAME, "1").tags["release"] == str(release_file)
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS).version) == "2"


def test_fine_tuning_needs_the_same_architecture(tmp_path, trained_model):
    _, val = trained_model
    start = random_model_file(tmp_path / "start.pt", small_config(), seed=7)
    settings = RunSettings(max_epochs=1, progress_bar=False, init_from=start)
    tuned, _ = fit(val, val, small_config(learning_rate=1e-9), settings)
    original, _, _ = load_model_file(start)
    tuned_weights = dict(tuned.model.named_parameters())
    for name, weights in original.named_parameters():
        assert torch.allclose(tuned_weights[name], weights, atol=1e-4), f"{name} left the start"
    with pytest.raises(ValueError, match="fine-tuning needs the same"):
        fit(val, val, small_config(lstm_hidden=24), settings)


def test_fine_tuning_an_earlier_alphabet_starts_the_new_classes_learnable(tmp_path):
    """A release of ``0-9 .`` fine-tunes into today's alphabet: its classes kept, the new ones able to learn."""
    start = random_model_file(tmp_path / "start.pt", small_config(), seed=7)
    payload = torch.load(start, weights_only=True)
    classes = len(EARLIER_CHARSETS[0]) + 1
    payload["charset"] = EARLIER_CHARSETS[0]
    for key in ("head.weight", "head.bias"):
        payload["state_dict"][key] = payload["state_dict"][key][:classes]
    torch.save(payload, start)
    module = LitCRNN(small_config().to_dict())
    start_from(module, start)
    head = module.model.head
    assert torch.equal(head.bias[:classes], payload["state_dict"]["head.bias"])
    assert torch.equal(head.weight[:classes], payload["state_dict"]["head.weight"])
    assert torch.allclose(head.bias[classes:], head.bias[1:classes].mean() - 2.0)
    assert float(head.weight[classes:].detach().abs().sum()) > 0


@pytest.mark.parametrize(("bf16_cpu", "expected"), [(True, "bf16-mixed"), (False, "32-true")])
def test_auto_precision_follows_the_cpu(monkeypatch, bf16_cpu, expected):
    """``auto`` trains in bf16 only where oneDNN runs it natively (a CPU without it is faked)."""
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: bf16_cpu)
    assert resolve_precision("auto") == expected
    assert resolve_precision("32-true") == "32-true"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp8")


def test_gate_decision_rule():
    assert register.decide(0.5, None, 0.0)
    assert register.decide(0.91, 0.90, 0.0)
    assert not register.decide(0.90, 0.90, 0.0)
    assert not register.decide(0.905, 0.90, 0.01)


@pytest.fixture
def sweep_params(tmp_path, trained_model) -> tuple[Path, dict]:
    _, val = trained_model
    packed = tmp_path / "packed"
    packed.mkdir()
    val.save(packed / "train.npz")
    val.save(packed / "val.npz")
    values = {
        "packed_dir": str(packed),
        "output": str(tmp_path / "sweep"),
        "metrics": str(tmp_path / "metrics.json"),
        "storage": f"sqlite:///{tmp_path / 'optuna.db'}",
        "n_trials": 1,
        "startup_trials": 1,
        "train_subset": 96,
        "val_subset": 64,
        "max_epochs": 2,
        "init_from": None,
    }
    path = write_params(tmp_path / "params.yaml", sweep=values)
    return path, {**yaml.safe_load(path.read_text())["sweep"], "defaults": yaml.safe_load(path.read_text())["model"]}


def test_study_name_follows_every_setting_that_changes_a_trial(sweep_params, tmp_path):
    _, params = sweep_params
    name = sweep.study_name(params)
    assert sweep.study_name(dict(params)) == name
    assert params["precision"] == "32-true"
    changes = [
        ("precision", "bf16-mixed"),
        ("max_epochs", params["max_epochs"] + 1),
        ("jitter", 0.0),
        ("source_weights", {"corrections": params["source_weights"]["corrections"] + 1}),
    ]
    for key, value in changes:
        assert sweep.study_name({**params, key: value}) != name, key
    start = tmp_path / "start.pt"
    random_model_file(start, small_config())
    from_start = sweep.study_name({**params, "init_from": str(start)})
    assert from_start != name
    random_model_file(start, small_config(), seed=1)
    assert sweep.study_name({**params, "init_from": str(start)}) != from_start, "new starting weights, new study"


def test_sweep_resumes_without_losing_finished_trials(sweep_params, tracking):
    path, params = sweep_params
    sweep.main(["--params", str(path)])
    study = optuna.load_study(study_name=sweep.study_name(params), storage=params["storage"])
    first = [t.number for t in study.trials if t.state in sweep.FINISHED]
    assert first == [0]
    assert study.trials[0].params == {k: v for k, v in params["defaults"].items() if k in params["space"]}

    raised = yaml.safe_load(path.read_text())
    raised["sweep"]["n_trials"] = 2
    path.write_text(yaml.safe_dump(raised))
    sweep.main(["--params", str(path)])
    study = optuna.load_study(study_name=sweep.study_name(params), storage=params["storage"])
    assert [t.number for t in study.trials if t.state in sweep.FINISHED] == [0, 1]
    summary = json.loads((Path(params["output"]) / "best_params.json").read_text())
    assert summary["n_complete"] + summary["n_pruned"] == 2


def test_trial_worse_than_the_median_is_pruned_and_marked(sweep_params, tracking):
    path, params = sweep_params
    study = optuna.create_study(study_name=sweep.study_name(params), storage=params["storage"], direction="minimize")
    distributions = {"dropout": optuna.distributions.FloatDistribution(0.0, 0.4)}
    study.add_trial(
        create_trial(
            params={"dropout": 0.1},
            distributions=distributions,
            value=0.001,
            intermediate_values={0: 0.001, 1: 0.001},
            state=TrialState.COMPLETE,
        )
    )
    raised = yaml.safe_load(path.read_text())
    raised["sweep"]["n_trials"] = 2
    path.write_text(yaml.safe_dump(raised))
    sweep.main(["--params", str(path)])

    study = optuna.load_study(study_name=sweep.study_name(params), storage=params["storage"])
    assert study.trials[1].state == TrialState.PRUNED
    summary = json.loads((Path(params["output"]) / "best_params.json").read_text())
    assert summary["n_pruned"] == 1
    pruned_runs = mlflow.search_runs(
        search_all_experiments=True, filter_string="tags.`optuna.trial_state` = 'PRUNED'", output_format="list"
    )
    assert len(pruned_runs) == 1
    assert pruned_runs[0].data.tags["mlflow.parentRunId"] == summary["parent_run_id"]


def wait_for_first_trial(name: str, storage: str, timeout: float = 180) -> None:
    """Wait until the first worker has created the study and queued its first trial (as the README says)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if optuna.load_study(study_name=name, storage=storage).trials:
                return
        except KeyError:
            pass
        time.sleep(0.5)
    raise AssertionError("the first worker created no trial")


def wait_for_a_finished_trial_of(pid: int, name: str, storage: str, timeout: float = 300) -> None:
    """Wait until the worker with process id ``pid`` has finished a trial of the study."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        trials = optuna.load_study(study_name=name, storage=storage).trials
        if any(t.state in sweep.FINISHED and t.user_attrs.get("worker", "").endswith(f":{pid}") for t in trials):
            return
        time.sleep(0.5)
    raise AssertionError(f"worker {pid} finished no trial")


def test_two_workers_share_one_study_on_postgresql(sweep_params, tmp_path, postgres):
    path, params = sweep_params
    storage = postgres.create_database("optuna_shared")
    optuna.storages.RDBStorage(storage)  # the first worker (or an admin) creates Optuna's tables once
    raised = yaml.safe_load(path.read_text())
    raised["sweep"]["n_trials"] = 6
    path.write_text(yaml.safe_dump(raised))
    name = sweep.study_name(params)
    logs = [tmp_path / f"worker{index}.log" for index in range(2)]
    workers: list[subprocess.Popen] = []
    try:
        for index in range(2):
            env = {
                **os.environ,
                "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / f'worker{index}.db'}",
                "PYTHONPATH": str(ROOT),
            }
            command = [sys.executable, "-m", "pipelines.sweep", "--params", str(path), "--storage", storage]
            with logs[index].open("w") as log:
                workers.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
            if index == 0:
                wait_for_first_trial(name, storage)
                # Trials this small take about a second: pause the first worker until the second has
                # finished one of its own, or the first may end the study before the second has started.
                workers[0].send_signal(signal.SIGSTOP)
        wait_for_a_finished_trial_of(workers[1].pid, name, storage)
    except BaseException:
        for worker in workers:
            worker.kill()
        raise
    finally:
        if workers:
            workers[0].send_signal(signal.SIGCONT)
    returncodes = [worker.wait(timeout=600) for worker in workers]
    assert returncodes == [0, 0], "\n".join(log.read_text()[-3000:] for log in logs)

    study = optuna.load_study(study_name=name, storage=storage)
    finished = [t for t in study.trials if t.state in sweep.FINISHED]
    assert len(finished) >= 6
    assert len({t.user_attrs["worker"] for t in finished}) == 2
    defaults = {k: v for k, v in params["defaults"].items() if k in params["space"]}
    assert sum(t.params == defaults for t in study.trials) == 1
