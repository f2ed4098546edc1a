"""Deployment files: the compose file is valid and wires every setting; the Bento builds and serves alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from service.core.config import ENV_VARS
from tests.drawing import draw_number
from tests.service.harness import ADMIN, QUIET_ENV, REPO, ServiceProcess, login, png_bytes, service_env

COMPOSE = REPO / "docker-compose.yml"
BENTOFILE = REPO / "bentofile.yaml"


def test_compose_file_parses_and_names_every_setting():
    compose = yaml.safe_load(COMPOSE.read_text())
    assert {"postgres", "mlflow", "digitify"} <= set(compose["services"])
    service = compose["services"]["digitify"]
    environment = service["environment"]
    assert set(ENV_VARS) <= set(environment), f"missing: {set(ENV_VARS) - set(environment)}"
    assert environment["DIGITIFY_ENV"] == "production"
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    # the registry has no auth: published on this host only; registration closed unless asked for
    assert all(port.startswith("127.0.0.1:") for port in compose["services"]["mlflow"].get("ports", []))
    assert environment["DIGITIFY_ALLOW_REGISTRATION"] == "${DIGITIFY_ALLOW_REGISTRATION:-false}"
    # kept images on a volume of their own, apart from the spool's
    mounts = dict(volume.split(":", 1)[::-1] for volume in service["volumes"])  # mount point -> volume
    assert environment["DIGITIFY_IMAGE_STORE"] == "${DIGITIFY_IMAGE_STORE:-/var/lib/digitify-images}"
    assert mounts["/var/lib/digitify-images"] != mounts[str(Path(environment["DIGITIFY_SPOOL_PATH"]).parent)]
    secret_refs = re.findall(r"\$\{(\w+):\?", COMPOSE.read_text())
    assert {"DIGITIFY_JWT_SECRET", "DIGITIFY_ADMIN_PASSWORD", "POSTGRES_PASSWORD"} <= set(secret_refs)


def test_config_reads_only_the_documented_variables():
    source = (REPO / "service" / "core" / "config.py").read_text()
    read = set(re.findall(r'environ(?:\.get)?\(\s*"([A-Z_]+)"', source)) | set(
        re.findall(r'_(?:int|float|bool)\(environ, "([A-Z_]+)"', source)
    )
    assert read == set(ENV_VARS)


def test_bentofile_names_the_service_and_packs_what_it_serves():
    bentofile = yaml.safe_load(BENTOFILE.read_text())
    assert bentofile["service"] == "service.service:Digitify"
    assert bentofile["python"]["lock_packages"] is False
    assert {"service/**/*.py", "models/**/*.py", "service/web/dist/**"} <= set(bentofile["include"])


def test_built_bento_serves_without_the_training_store(model_env, tmp_path):
    """``bentoml build`` packs code and model; the Bento serves from elsewhere with MLflow out of reach."""
    bentoml = str(Path(sys.executable).with_name("bentoml"))
    build = subprocess.run(
        [bentoml, "build", "--output", "tag"],
        cwd=REPO,
        env={**os.environ, **QUIET_ENV, **model_env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    tag = build.stdout.strip().splitlines()[-1].replace("__tag__:", "")
    assert tag.startswith("digitify:")
    work = tmp_path / "elsewhere"
    work.mkdir()
    mlflow_db = Path(model_env["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"))
    hidden = mlflow_db.with_suffix(".hidden")
    shutil.move(mlflow_db, hidden)
    try:
        env = service_env(f"sqlite:///{work / 'log.db'}", work, model_env)
        process = ServiceProcess({**env, "PYTHONPATH": ""}, cwd=work, target=tag).start()
        try:
            token = login(process.url, *ADMIN)
            response = httpx.post(
                f"{process.url}/predict",
                files={"image": ("n.png", png_bytes(draw_number("305")))},
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            assert response.status_code == 200, response.text
            assert response.json()["model_version"] == "digitify-crnn/v1"
        finally:
            process.stop()
    finally:
        shutil.move(hidden, mlflow_db)


def _serve_exits(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    bentoml = str(Path(sys.executable).with_name("bentoml"))
    return subprocess.run(
        [bentoml, "serve", "service.service:Digitify", "--port", "1"],
        cwd=cwd,
        env={**os.environ, **QUIET_ENV, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_start_without_a_secret_is_refused(model_env, tmp_path):
    env = {**model_env, "DIGITIFY_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = _serve_exits({**env, "DIGITIFY_JWT_SECRET": ""}, tmp_path)
    assert result.returncode != 0
    assert "refusing to start in production mode: DIGITIFY_JWT_SECRET is not set" in result.stderr + result.stdout


def test_start_without_an_imported_model_says_what_to_run(tmp_path):
    result = _serve_exits({"BENTOML_HOME": str(tmp_path / "empty-home")}, tmp_path)
    assert result.returncode != 0
    assert "python -m service.import_model" in result.stderr + result.stdout
