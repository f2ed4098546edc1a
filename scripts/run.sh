#!/usr/bin/env bash
# Set everything up, run the pipeline (data, sweep, training, evaluation, registration), then serve
# the champion model on http://127.0.0.1:${PORT:-3000} (HOST=0.0.0.0 with DIGITIFY_ENV=production to serve
# other machines) with the web page at /. Async prediction: unless REDIS_URL names a Redis, a private
# redis-server listens on 127.0.0.1:${REDIS_PORT:-6380} with its data in .redis/, and a Celery worker
# (scripts/worker.sh, its log in worker.log) runs beside the service; both stop when the service does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
dvc repro
python -m pipelines.common.training.summary --port "${PORT:-3000}"   # the decision, the served model and its figures
python -m service.import_model
export DIGITIFY_KEEP_IMAGES="${DIGITIFY_KEEP_IMAGES:-true}"   # corrections of readings become training data
cleanup=()
trap 'for step in "${cleanup[@]}"; do eval "$step" || true; done' EXIT
if [ -z "${REDIS_URL:-}" ]; then
  redis_port="${REDIS_PORT:-6380}"
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then   # one left running by an earlier run is reused
    mkdir -p .redis
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$PWD/.redis" --appendonly yes --save "" \
      --daemonize yes --pidfile "$PWD/.redis/redis.pid" --logfile "$PWD/.redis/redis.log"
    cleanup+=("redis-cli -p $redis_port shutdown >/dev/null")
  fi
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
fi
bash scripts/worker.sh >worker.log 2>&1 &
cleanup=("kill $! 2>/dev/null; wait $!" "${cleanup[@]}")
bentoml serve --host "${HOST:-127.0.0.1}" --port "${PORT:-3000}"
