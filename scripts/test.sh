#!/usr/bin/env bash
# Set everything up, then lint and run the whole test suite (unit, data, pipeline, service, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
echo "test: ruff"
ruff check .
ruff format --check .
echo "test: zizmor (GitHub Actions workflows)"
zizmor --offline --quiet .github/workflows
echo "test: pytest"
pytest "$@"
