"""The served model in BentoML's model store: how it is saved there and loaded from there.

A stored model is a folder holding the model file ``model.pt`` plus labels and metadata that
say where it came from (the MLflow registry version), so a Bento built from it serves with
no access to the training store.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import bentoml

from models.recognizer import load_model_file

MODEL_NAME = "digitify-crnn"
MODEL_FILE = "model.pt"


def model_version_label(registry_version: str, model_file: Path) -> str:
    """Name the version the service reports: the registry version, or a content hash for local files."""
    if registry_version and registry_version != "local":
        return f"{MODEL_NAME}/v{registry_version}"
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()[:12]
    return f"{MODEL_NAME}/local-{digest}"


def save_to_store(model_file: Path, registry_version: str, source_uri: str) -> bentoml.Model:
    """Copy a model file into the BentoML model store; return the stored model (its tag is new)."""
    _, _, file_metadata = load_model_file(model_file)
    version = model_version_label(registry_version, model_file)
    metadata: dict[str, Any] = {
        "model_version": version,
        "registry_version": registry_version,
        "source_uri": source_uri,
        "model_file_metadata": {key: str(value) for key, value in file_metadata.items()},
    }
    labels = {"registry_version": registry_version, "source": "mlflow" if source_uri.startswith("models:/") else "file"}
    with bentoml.models.create(MODEL_NAME, labels=labels, metadata=metadata) as stored:
        shutil.copyfile(model_file, stored.path_of(MODEL_FILE))
    return stored


def stored_model_file(stored: bentoml.Model) -> tuple[Path, str]:
    """The model file of a model in the BentoML model store, and its version label."""
    return Path(stored.path_of(MODEL_FILE)), str(stored.info.metadata.get("model_version") or stored.tag)
