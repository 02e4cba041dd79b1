#!/usr/bin/env bash
# The GPU check on a CUDA machine (benchmarks/gpu_check.py says what it measures). Gather the
# assets first where the package registry is reachable: `bash benchmarks/gpu_assets.sh`.
# Writes docs/results/gpu.{md,json}, or into $OUT when that is set; under 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if compgen -G ".gpu_assets/wheels/*.whl" >/dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/gpu-check-site .gpu_assets/wheels/*.whl
    export PYTHONPATH=/tmp/gpu-check-site${PYTHONPATH:+:$PYTHONPATH}
fi
export LLMD4REC_CACHE=${LLMD4REC_CACHE:-$PWD/.gpu_assets/cache}
export PYTHONUNBUFFERED=1
timeout --signal=INT 470 "$python" benchmarks/gpu_check.py --out "${OUT:-docs/results}" "$@"
