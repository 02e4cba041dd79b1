#!/usr/bin/env bash
# Set up, then run the quickstart comparison end to end on ./runs.db:
# queue the configs (skipping ones already done), work the queue empty, print the table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
LLMD4REC=.venv/bin/llmd4rec
$LLMD4REC queue add --skip-done examples/configs/quickstart/*.toml
$LLMD4REC worker --until-empty
$LLMD4REC runs results --tag quickstart
