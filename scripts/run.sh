#!/usr/bin/env bash
# Set everything up, run the pipeline (data, sweep, training, evaluation, registration), then serve
# the champion model on http://127.0.0.1:${PORT:-3000} (HOST=0.0.0.0 with DIGITIFY_ENV=production to serve
# other machines) with the web page at /.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
dvc repro
python -m pipelines.common.training.summary --port "${PORT:-3000}"   # the decision, the served model and its figures
python -m service.import_model
export DIGITIFY_KEEP_IMAGES="${DIGITIFY_KEEP_IMAGES:-true}"   # corrections of readings become training data
exec bentoml serve --host "${HOST:-127.0.0.1}" --port "${PORT:-3000}"
