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
# Quiet unless it fails: pip's output (packaging warnings included) goes to a log that is
# printed only when a step fails.
LOG=$(mktemp "${TMPDIR:-/tmp}/llmd4rec-setup.XXXXXX")
trap 'rm -f "$LOG"' EXIT
step() {
  if ! "$@" >>"$LOG" 2>&1; then
    echo "setup failed: $*" >&2
    cat "$LOG" >&2
    exit 1
  fi
}
if [ ! -x .venv/bin/python ]; then
  step "$PY" -m venv .venv
fi
step .venv/bin/python -m pip install -q --upgrade pip
# constraints.txt pins every package (torch 2.13.0 is the CPU build from local disk).
step .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
step .venv/bin/python -c "import engine, llmd4rec_tui, torch, transformers, peft, textual"
