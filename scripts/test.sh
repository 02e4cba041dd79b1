#!/usr/bin/env bash
# Set up, then lint, type-check and run the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check engine llmd4rec_tui tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest -q -n 2 --dist loadgroup "$@"
