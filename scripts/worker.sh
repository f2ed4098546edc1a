#!/usr/bin/env bash
# The Celery worker that reads async prediction tasks (service/tasks): the same settings from the
# environment as the service (REDIS_URL, DATABASE_URL, DIGITIFY_*), the served model from the BentoML
# model store, log rows through the same spool. Run it from the repository root, beside the service
# (./scripts/run.sh starts one); more workers, here or on other machines, share one Redis.
# Arguments go to `celery worker` (e.g. `-n second@%h` for a second worker on one machine).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
exec celery -A service.tasks.worker worker --pool solo --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
  --without-gossip --without-mingle -Q digitify-tasks "$@"
