#!/usr/bin/env bash
# Create .venv-ocr-peer: RapidOCR 3.10 and onnxruntime only, kept apart from .venv so the two
# sets of packages never mix. benchmarks/ocr_peer.py runs RapidOCR with this venv's python.
# Idempotent: does nothing when the venv already imports rapidocr 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-ocr-peer
if "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(not m.version('rapidocr').startswith('3.10.'))" 2>/dev/null; then
  echo "setup_ocr_peer: $venv already holds rapidocr 3.10"
  exit 0
fi
echo "setup_ocr_peer: creating $venv (rapidocr 3.10, onnxruntime)"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check 'rapidocr==3.10.*' onnxruntime
echo "setup_ocr_peer: done"
