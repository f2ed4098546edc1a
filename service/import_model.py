"""Put the MLflow champion (or any model URI or file) into BentoML's model store for serving.

    python -m service.import_model [--uri models:/digitify-crnn@champion]

Reads ``MLFLOW_TRACKING_URI`` (default: ``sqlite:///mlflow.db`` in the working directory) and
``BENTOML_HOME``. After this, ``bentoml serve`` and ``bentoml build`` use the imported model
(tag ``digitify-crnn:latest`` unless ``DIGITIFY_MODEL`` names another).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from models.registry import CHAMPION_URI, fetch_model_file
from service.prediction.model_store import save_to_store

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


def import_model(uri: str = CHAMPION_URI) -> dict[str, str]:
    """Fetch the model at ``uri`` and save it in the BentoML model store; describe what was saved."""
    os.environ.setdefault("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)
    with tempfile.TemporaryDirectory(prefix="digitify-import-") as scratch:
        model_file, registry_version = fetch_model_file(uri, destination=scratch)
        stored = save_to_store(Path(model_file), registry_version, uri)
    return {
        "tag": str(stored.tag),
        "model_version": str(stored.info.metadata["model_version"]),
        "registry_version": registry_version,
        "source_uri": uri,
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: import and print what was imported as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=CHAMPION_URI, help=f"MLflow model URI or model file (default {CHAMPION_URI})")
    args = parser.parse_args(argv)
    print(json.dumps(import_model(args.uri), indent=2))


if __name__ == "__main__":
    main()
