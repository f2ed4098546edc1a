#!/usr/bin/env bash
# Set everything up, run the pipeline (data, sweep, training, evaluation, registration), then serve
# the champion model on http://localhost:${PORT:-3000} with the web page at /.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
dvc repro
dvc metrics show
python -m service.import_model
exec bentoml serve --port "${PORT:-3000}"
