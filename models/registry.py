"""The model's place in MLflow: how a model file is logged, and how a registered one is fetched.

This is the one module of ``models/`` that imports MLflow: the pipeline logs and registers
through it and the service fetches the champion through it, so both agree on the layout.
A logged model is an MLflow pyfunc (usable by any MLflow tool) that carries the model file
as its artifact ``model_file``.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel, PythonModelContext
from mlflow.types import ColSpec, Schema
from PIL import Image

from models.preprocess import ImageDecodeError, NoInkError

MODEL_NAME = "digitify-crnn"
CHAMPION_ALIAS = "champion"
CHAMPION_URI = f"models:/{MODEL_NAME}@{CHAMPION_ALIAS}"
MODEL_FILE = "model.pt"
ARTIFACT_KEY = "model_file"
MODELS_PACKAGE = Path(__file__).resolve().parent

SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", "image")]),
    outputs=Schema([ColSpec("string", "text"), ColSpec("double", "confidence"), ColSpec("string", "error")]),
)


class DigitifyPyfunc(PythonModel):
    """MLflow pyfunc wrapper: a DataFrame of base64 images in, text and confidence out."""

    def load_context(self, context: PythonModelContext) -> None:
        """Load the Recognizer from the logged model file."""
        from models.recognizer import Recognizer

        self.recognizer = Recognizer.from_file(context.artifacts[ARTIFACT_KEY])

    def predict(self, context: PythonModelContext, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """Read each base64-encoded image of the ``image`` column."""
        rows = []
        for encoded in model_input["image"]:
            try:
                prediction = self.recognizer.predict([base64.b64decode(encoded)])[0]
                rows.append({"text": prediction.text, "confidence": prediction.confidence, "error": ""})
            except (ImageDecodeError, NoInkError) as exc:
                rows.append({"text": "", "confidence": 0.0, "error": str(exc)})
        return pd.DataFrame(rows, columns=["text", "confidence", "error"])


def example_input() -> pd.DataFrame:
    """A one-row input example: a drawn "1" as a base64 PNG."""
    canvas = np.full((40, 40), 255, dtype=np.uint8)
    canvas[6:34, 18:22] = 0
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    return pd.DataFrame({"image": [base64.b64encode(buffer.getvalue()).decode("ascii")]})


def log_model_file(path: str | Path, name: str = "model") -> mlflow.models.model.ModelInfo:
    """Log a model file to the active MLflow run as a pyfunc model with signature and example.

    The file is logged under the name ``model.pt`` whatever its name on disk.
    """
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / MODEL_FILE
        shutil.copyfile(path, staged)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(MODELS_PACKAGE / "pyfunc_entry.py"),
            artifacts={ARTIFACT_KEY: str(staged)},
            code_paths=[str(MODELS_PACKAGE)],
            signature=SIGNATURE,
            input_example=example_input(),
        )


def registry_version(uri: str) -> str:
    """The registry version a ``models:/name@alias`` or ``models:/name/N`` URI points at."""
    alias = re.fullmatch(r"models:/([^/@]+)@(.+)", uri)
    if alias:
        return str(mlflow.MlflowClient().get_model_version_by_alias(alias[1], alias[2]).version)
    numbered = re.fullmatch(r"models:/([^/@]+)/(\d+)", uri)
    if numbered:
        return numbered[2]
    return uri


def fetch_model_file(uri: str = CHAMPION_URI, destination: str | Path | None = None) -> tuple[Path, str]:
    """Download a logged or registered model; return its model file and its registry version.

    ``uri`` is any MLflow model URI (``models:/digitify-crnn@champion``, ``runs:/<id>/model``)
    or a local model file path.
    """
    if Path(uri).is_file():
        return Path(uri), "local"
    version = registry_version(uri)
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=uri, dst_path=str(destination) if destination is not None else None
    )
    matches = sorted(Path(local).rglob(MODEL_FILE))
    if not matches:
        raise FileNotFoundError(f"{uri}: the logged model has no {MODEL_FILE}")
    return matches[0], version
