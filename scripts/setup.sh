#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the project with pinned dependencies.
# Idempotent: a second call only re-checks the install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3.12 python3; do
    if command -v "$c" >/dev/null 2>&1; then PY=$c; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v -i "warning" || true
# constraints.txt pins every package (torch 2.13.0 is the CPU build from local disk).
.venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]" 2>&1 | grep -v -i "warning" || true
.venv/bin/python -c "import engine, llmd4rec_tui, torch, transformers, peft, textual" \
  || { echo "setup failed: the project does not import" >&2; exit 1; }
