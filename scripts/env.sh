# Environment shared by Digitify's scripts: no telemetry (it stalls offline), the venv on PATH.
export NO_ALBUMENTATIONS_UPDATE=1
export BENTOML_DO_NOT_TRACK=True
export MLFLOW_DISABLE_TELEMETRY=true
export DVC_NO_ANALYTICS=1
export DO_NOT_TRACK=1
export PYTHONUNBUFFERED=1
export PATH="$PWD/.venv/bin:$PATH"
