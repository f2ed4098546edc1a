"""Stage ``register``: register the trained model; give it the champion alias only if it wins.

The new version and the current champion are scored on the same gate data: the packed validation
split pooled with every labelled folder of ``register.gate_folders`` that has a ``labels.csv`` (the
test split of the people's corrections, once exported): the gate's exact match counts every image
of the pool once, and the score of each set is recorded beside it. The alias moves only when the
new version's pooled exact match is higher by more than ``min_improvement``. A store with no
champion yet first registers the released model that ships with the repository
(``register.release``) as the champion, so a fresh clone serves at least the release. The decision
is written to the version's tags, the MLflow run and ``register.decision_file`` (with the release
file when the champion it met is the release, so that the run summary can show the figures of the
model served). A champion saved in a model format this code cannot read (an older release) does
not take part: the new version takes the alias.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from models.recognizer import ModelFileError, Recognizer
from models.registry import fetch_model_file, log_model_file
from pipelines.common.labelled_folder import LABELS_FILE
from pipelines.common.params import start_stage
from pipelines.common.training.packed_data import PackedSet, pack_folders
from pipelines.common.training.run import exact_match_on

log = logging.getLogger("pipelines.register")


def current_champion(client: mlflow.MlflowClient, name: str, alias: str) -> str | None:
    """The version that holds the alias now, or None."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def register_release(client: mlflow.MlflowClient, path: Path, name: str, alias: str) -> str:
    """Register the released model file that ships with the repository and give it the alias: the
    champion a fresh store starts from, so a new model must beat the release to be served.
    """
    with mlflow.start_run(run_name="release"):
        mlflow.set_tag("digitify.stage", "release")
        info = log_model_file(path)
    version = str(mlflow.register_model(info.model_uri, name).version)
    client.set_model_version_tag(name, version, "release", str(path))
    client.set_registered_model_alias(name, alias, version)
    log.info("no %s yet: the release %s is registered as v%s and takes it", alias, path, version)
    return version


def gate_sets(val_data: Path, folders: dict[str, str]) -> dict[str, PackedSet]:
    """The gate's data by name: ``val`` (the packed validation split) and each folder that has a labels.csv."""
    sets = {"val": PackedSet.load(val_data)}
    for name, folder in folders.items():
        if (Path(folder) / LABELS_FILE).is_file():
            sets[name] = pack_folders({name: Path(folder)}, workers=1)
            log.info("gate set %s: %d images from %s", name, len(sets[name]), folder)
        else:
            log.info("gate set %s: no labelled folder at %s; not counted", name, folder)
    return sets


def gate_scores(recognizer: Recognizer, sets: dict[str, PackedSet]) -> tuple[float, dict[str, float]]:
    """The exact match over all the gate's images pooled, and on each set."""
    per_set = {name: exact_match_on(recognizer, packed) for name, packed in sets.items()}
    pooled = sum(per_set[name] * len(packed) for name, packed in sets.items()) / sum(map(len, sets.values()))
    return pooled, per_set


def decide(new_score: float, champion_score: float | None, min_improvement: float) -> bool:
    """Whether the new version takes the alias."""
    return champion_score is None or new_score > champion_score + min_improvement


def main(argv: list[str] | None = None) -> None:
    """Register the trained model and apply the promotion gate."""
    params, _ = start_stage("register", __doc__.splitlines()[0], argv)
    run = json.loads(Path(params["run_file"]).read_text())
    sets = gate_sets(Path(params["val_data"]), params["gate_folders"])
    name, alias = params["model_name"], params["alias"]
    client = mlflow.MlflowClient()

    champion_version = current_champion(client, name, alias)
    if champion_version is None and params["release"]:
        champion_version = register_release(client, Path(params["release"]), name, alias)
    champion_score, champion_per_set = None, {}
    if champion_version is not None:
        path, _ = fetch_model_file(f"models:/{name}/{champion_version}")
        try:
            champion_score, champion_per_set = gate_scores(Recognizer.from_file(path), sets)
        except ModelFileError as exc:
            log.warning("champion v%s cannot be read by this code (%s): it does not take part", champion_version, exc)
            champion_version = None
    champion_release = (
        client.get_model_version(name, champion_version).tags.get("release") if champion_version else None
    )

    version = str(mlflow.register_model(run["model_uri"], name).version)
    new_path, _ = fetch_model_file(f"models:/{name}/{version}")
    new_score, new_per_set = gate_scores(Recognizer.from_file(new_path), sets)
    promoted = decide(new_score, champion_score, params["min_improvement"])
    if promoted:
        client.set_registered_model_alias(name, alias, version)
        reason = f"v{version} ({new_score:.4f}) takes '{alias}'" + (
            f" from v{champion_version} ({champion_score:.4f})" if champion_version else " (no champion before)"
        )
    else:
        reason = f"v{version} ({new_score:.4f}) does not beat champion v{champion_version} ({champion_score:.4f})"
    decision = {
        "model_name": name,
        "version": version,
        "run_id": run["run_id"],
        "sweep_parent_run_id": run.get("sweep_parent_run_id"),
        "gate_exact_match": round(new_score, 4),
        "champion_version": champion_version,
        "champion_gate_exact_match": None if champion_score is None else round(champion_score, 4),
        "champion_release": champion_release,
        "gate_sets": {
            set_name: {
                "n": len(packed),
                "exact_match": round(new_per_set[set_name], 4),
                "champion_exact_match": round(champion_per_set[set_name], 4) if champion_per_set else None,
            }
            for set_name, packed in sets.items()
        },
        "promoted": promoted,
        "reason": reason,
    }
    tags = {
        "gate_exact_match": f"{new_score:.4f}",
        "decision": "promoted" if promoted else "not promoted",
        "decision_reason": reason,
        "hparams": json.dumps(run.get("hparams", {})),
        "sweep_parent_run_id": str(run.get("sweep_parent_run_id")),
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.log_dict(run["run_id"], decision, "registration_decision.json")
    output = Path(params["decision_file"])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(decision, indent=2) + "\n")
    log.info(reason)


if __name__ == "__main__":
    main()
