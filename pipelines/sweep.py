"""Stage ``sweep``: an Optuna study over the CRNN's hyperparameters, tracked in MLflow.

The search space is declared in ``params.yaml: sweep.space``; ``params.yaml: model`` holds the
defaults for everything the space leaves out. Trials train on a subset of the
packed data with Lightning (sources weighted by ``source_weights``, as the final training does),
are scored and pruned on a validation metric (``sweep.monitor``; the CTC validation loss by
default, which separates short trials long before exact match does) by Optuna's Lightning callback,
and are logged as nested MLflow runs under one parent run, which carries the best parameters and
the study's plots. The first trial is the untuned default, so the gain is visible.

The study lives in an RDB (``sweep.storage``, a local SQLite file by default) under a name derived
from the search setup: re-running resumes it and keeps finished trials, and several workers on
several machines can share one study through PostgreSQL
(``python -m pipelines.sweep --storage postgresql+psycopg://...``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import mlflow
import optuna
import torch
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState
from optuna_integration import PyTorchLightningPruningCallback

from models.crnn import CRNNConfig
from models.recognizer import Recognizer
from pipelines.common.params import load_section, stage_arguments, start_stage
from pipelines.common.training.packed_data import PackedSet
from pipelines.common.training.run import MONITOR_MODES, RunSettings, exact_match_on, fit

log = logging.getLogger("pipelines.sweep")
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def suggest(trial: optuna.Trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Draw one point of the declared search space."""
    values: dict[str, Any] = {}
    for name, spec in space.items():
        kind = spec["type"]
        if kind == "float":
            values[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec.get("log", False))
        elif kind == "int":
            values[name] = trial.suggest_int(name, spec["low"], spec["high"], log=spec.get("log", False))
        elif kind == "categorical":
            values[name] = trial.suggest_categorical(name, spec["choices"])
        else:
            raise SystemExit(f"error: params.yaml sweep.space.{name}: unknown type {kind!r}")
    return values


def study_name(params: dict[str, Any]) -> str:
    """A name that changes when the search setup, the packed data or the starting weights change, so
    that a changed sweep starts a new study while an interrupted one resumes.
    """
    keys = (
        "space",
        "defaults",
        "monitor",
        "train_subset",
        "val_subset",
        "max_epochs",
        "batch_size",
        "seed",
        "precision",
        "jitter",
        "source_weights",
        "init_from",
    )
    setup = json.dumps({k: params[k] for k in keys}, sort_keys=True).encode()
    digest = hashlib.sha256(setup)
    inputs = [Path(params["packed_dir"]) / f"{split}.npz" for split in ("train", "val")]
    for path in inputs + ([Path(params["init_from"])] if params["init_from"] else []):
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return f"{params['study_prefix']}-{digest.hexdigest()[:10]}"


class Objective:
    """Train one trial as a nested MLflow run and return its best validation exact match."""

    def __init__(self, params: dict[str, Any], train: PackedSet, val: PackedSet, parent_run_id: str) -> None:
        self.params, self.train, self.val, self.parent_run_id = params, train, val, parent_run_id

    def __call__(self, trial: optuna.Trial) -> float:
        """Run the trial."""
        config = CRNNConfig.from_params(self.params["defaults"]).replace(**suggest(trial, self.params["space"]))
        hparams = config.to_dict()
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        with mlflow.start_run(run_name=f"trial-{trial.number}", nested=True, parent_run_id=self.parent_run_id) as run:
            mlflow.log_params(hparams)
            mlflow.set_tags({"digitify.stage": "sweep-trial", "optuna.trial_number": trial.number})
            settings = RunSettings(
                max_epochs=self.params["max_epochs"],
                init_from=Path(self.params["init_from"]) if self.params["init_from"] else None,
                batch_size=self.params["batch_size"],
                patience=self.params["patience"],
                seed=self.params["seed"],
                precision=self.params["precision"],
                jitter=self.params["jitter"],
                source_weights=self.params["source_weights"],
                progress_bar=False,
                monitor=self.params["monitor"],
                callbacks=[PyTorchLightningPruningCallback(trial, monitor=self.params["monitor"])],
            )
            try:
                module, best = fit(self.train, self.val, config, settings)
            except optuna.TrialPruned as pruned:
                mlflow.set_tags({"optuna.trial_state": "PRUNED", "optuna.pruned": str(pruned)})
                raise
            exact = exact_match_on(Recognizer(module.model), self.val)
            trial.set_user_attr("val_exact_match", exact)
            trial.set_user_attr("mlflow_run_id", run.info.run_id)
            mlflow.set_tag("optuna.trial_state", "COMPLETE")
            mlflow.log_metrics({f"best_{self.params['monitor']}": best, "best_model_val_exact_match": exact})
            return best


def log_study_plots(study: optuna.Study) -> None:
    """Attach the optimisation history and parameter importances to the active (parent) run."""
    from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances

    mlflow.log_figure(plot_optimization_history(study).figure, "optimization_history.png")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if len(complete) >= 2 and len({json.dumps(t.params, sort_keys=True) for t in complete}) >= 2:
        try:
            mlflow.log_figure(plot_param_importances(study).figure, "param_importances.png")
        except (RuntimeError, ValueError) as exc:
            log.warning("parameter importances not plotted: %s", exc)


def main(argv: list[str] | None = None) -> None:
    """Run (or resume) the sweep and write the best parameters."""
    parser = stage_arguments(__doc__.splitlines()[0])
    parser.add_argument("--storage", help="Optuna RDB URL; overrides sweep.storage (share one study across workers)")
    section, args = start_stage("sweep", __doc__.splitlines()[0], argv, parser)
    params = {**section, "defaults": load_section("model", args.params)}
    torch.set_num_threads(params.get("threads", 2))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    output = Path(params["output"])
    output.mkdir(parents=True, exist_ok=True)
    packed = Path(params["packed_dir"])
    train = PackedSet.load(packed / "train.npz").subset(params["train_subset"], params["seed"])
    val = PackedSet.load(packed / "val.npz").subset(params["val_subset"], params["seed"])

    storage = args.storage or params["storage"]
    name = study_name(params)
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction="maximize" if MONITOR_MODES[params["monitor"]] == "max" else "minimize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=params["seed"], n_startup_trials=params["startup_trials"]),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=params["startup_trials"], n_warmup_steps=1),
    )
    if not study.trials:
        study.enqueue_trial({k: v for k, v in params["defaults"].items() if k in params["space"]}, skip_if_exists=True)
    done = len([t for t in study.trials if t.state in FINISHED])
    log.info("study %s in %s: %d finished trials, target %d", name, storage, done, params["n_trials"])

    mlflow.set_experiment(params["experiment"])
    with mlflow.start_run(run_name=f"sweep-{name}") as parent:
        mlflow.set_tags({"digitify.stage": "sweep", "optuna.study_name": name})
        mlflow.log_params({"n_trials": params["n_trials"], "train_subset": len(train), "val_subset": len(val)})
        study.optimize(
            Objective(params, train, val, parent.info.run_id),
            n_trials=max(params["n_trials"] - done, 0),
            callbacks=[MaxTrialsCallback(params["n_trials"], states=FINISHED)],
            catch=(),
        )
        complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
        if not complete:
            raise SystemExit("error: the sweep finished no trial (every trial was pruned); raise sweep.n_trials")
        default_trial, best_trial = study.trials[0], study.best_trial
        default_complete = default_trial.state == TrialState.COMPLETE
        summary = {
            "study_name": name,
            "parent_run_id": parent.info.run_id,
            "monitor": params["monitor"],
            "best_params": {**params["defaults"], **study.best_params},
            "best_value": study.best_value,
            "default_value": default_trial.value if default_complete else None,
            "best_exact_match": best_trial.user_attrs.get("val_exact_match"),
            "default_exact_match": default_trial.user_attrs.get("val_exact_match") if default_complete else None,
            "n_complete": len(complete),
            "n_pruned": len([t for t in study.trials if t.state == TrialState.PRUNED]),
        }
        mlflow.log_params({f"best_{k}": v for k, v in study.best_params.items()})
        mlflow.log_metrics({f"best_{params['monitor']}": study.best_value, "n_pruned": summary["n_pruned"]})
        mlflow.log_dict(summary, "sweep_summary.json")
        log_study_plots(study)
    (output / "best_params.json").write_text(json.dumps(summary, indent=2) + "\n")
    keys = ("best_value", "default_value", "best_exact_match", "default_exact_match", "n_complete", "n_pruned")
    metrics = {k: summary[k] for k in keys}
    Path(params["metrics"]).parent.mkdir(parents=True, exist_ok=True)
    Path(params["metrics"]).write_text(json.dumps(metrics, indent=2) + "\n")
    log.info("best %s = %.4f with %s", params["monitor"], study.best_value, study.best_params)


if __name__ == "__main__":
    main()
