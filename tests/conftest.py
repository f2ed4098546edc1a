"""Shared fixtures: environment without telemetry, drawn number images."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.drawing import draw_number
from tests.service.harness import PostgresServer, postgres_bindir

for _name, _value in {
    "NO_ALBUMENTATIONS_UPDATE": "1",
    "BENTOML_DO_NOT_TRACK": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture
def drawn_number():
    """The draw_number helper as a fixture."""
    return draw_number


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory):
    """A model file trained for real on pen-stroke numbers (about a minute), and its validation set."""
    from tests.trained_model import train_small_model

    return train_small_model(tmp_path_factory.mktemp("trained-model"))


@pytest.fixture(scope="session")
def trained_model_file(trained_model) -> Path:
    """Path of the session's trained model file."""
    return trained_model[0]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session, started in a temporary folder."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries are not installed: run scripts/setup.sh")
    server = PostgresServer(bindir)
    server.init()
    yield server
    server.remove()
