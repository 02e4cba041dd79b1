"""``python -m engine run --config resolved.json --run-dir DIR [--resume]``.

Also ``python -m engine data ls|fetch NAME|info --data JSON`` and ``models ls``: one JSON
report on stdout, for the command line, which never imports the data stack itself.

Exit codes: engine/protocol.py's table (0 finished, 1 failed, 2 bad arguments or config,
130 cancelled after a checkpoint); a report exits 0, else prints ``error: ...`` on stderr
and exits 2 for a config or data file that cannot be used, 1 when a download or the disk
failed.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
import traceback
from pathlib import Path

from engine import catalog
from engine.config import Config, ConfigError, config_from_dict
from engine.events import Emitter
from engine.lease_watch import watch_lease
from engine.protocol import EXIT_CANCELLED, EXIT_FAILED, EXIT_FINISHED, EXIT_USAGE, RunCancelled, RunFailed


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="Run one experiment and stream JSON-lines events on stdout.")
    run.add_argument("--config", required=True, type=Path, help="Resolved config (JSON or TOML).")
    run.add_argument("--run-dir", required=True, type=Path, help="Checkpoints and teacher caches go here.")
    run.add_argument("--resume", action="store_true", help="Continue from the last completed phase.")
    data = sub.add_parser("data", help="Dataset reports as JSON.").add_subparsers(dest="report", required=True)
    models = sub.add_parser("models", help="Backbone reports as JSON.").add_subparsers(dest="report", required=True)
    reports = [data.add_parser("ls"), data.add_parser("fetch"), data.add_parser("info"), models.add_parser("ls")]
    for report in reports:
        report.add_argument("--cache-dir", default="", help="Cache folder (default: $LLMD4REC_CACHE, user cache).")
    reports[1].add_argument("name", choices=catalog.FETCHED_DATASETS)
    reports[2].add_argument("--data", required=True, help="The [data] section as a JSON object.")
    reports[2].add_argument("--source", default="command line", help="What errors name as the config.")
    return parser.parse_args(argv)


def _report(args: argparse.Namespace) -> int:
    """Print one JSON report; a failure is one ``error:`` line and its exit code."""
    from engine import inventory
    from engine.assets import AssetError
    from engine.data.errors import DataError

    try:
        if args.command == "models":
            out = inventory.models_ls(args.cache_dir)
        elif args.report == "ls":
            out = inventory.data_ls(args.cache_dir)
        elif args.report == "fetch":
            out = inventory.data_fetch(args.name, args.cache_dir)
        else:
            data = {**json.loads(args.data), **({"cache_dir": args.cache_dir} if args.cache_dir else {})}
            out = inventory.data_info(data, args.source)
    except (ConfigError, DataError) as exc:  # the config, or the file and filters it names, are unusable
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (AssetError, OSError) as exc:  # a download, a checksum or the disk failed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(out))
    return EXIT_FINISHED


def _load(path: Path) -> Config:
    from engine.config import load_config

    if path.suffix == ".toml":
        return load_config(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", str(path), "an existing resolved config") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", exc.msg, f"valid JSON (line {exc.lineno})") from None
    return config_from_dict(raw, str(path))


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.command != "run":
        return _report(args)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = _load(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    emitter = Emitter(step_every_s=config.train.step_every_s)
    # Imported late: torch is slow to import and a bad config should fail fast.
    from engine.experiment import run_experiment
    from engine.runtime import Cancelled, CancelToken

    token = CancelToken()
    token.install()
    watch_lease()  # a hung or dead worker's engine stops itself, as on a cancel
    try:
        run_experiment(config, args.run_dir, emitter, resume=args.resume, cancel=token)
    except Cancelled as exc:
        emitter.emit(RunCancelled(checkpoint=str(exc.args[1]) if len(exc.args) > 1 else None))
        return EXIT_CANCELLED
    except MemoryError:
        emitter.emit(RunFailed(message="out of memory", traceback=traceback.format_exc(), kind="oom"))
        return EXIT_FAILED
    except Exception as exc:  # every failure becomes an event and a non-zero exit
        message = f"{type(exc).__name__}: {exc}"
        emitter.emit(RunFailed(message=message, traceback=traceback.format_exc(), kind=failure_kind(exc)))
        return EXIT_FAILED
    return EXIT_FINISHED


#: How allocators word running out of memory: CUDA, torch's CPU allocator, the C library.
OOM_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory")


def failure_kind(exc: BaseException) -> str:
    """oom for an allocation failure, disk_full for a write that found no space, else exception."""
    if isinstance(exc, MemoryError) or any(word in str(exc).lower() for word in OOM_WORDS):
        return "oom"
    seen: BaseException | None = exc
    while seen is not None:  # torch.save wraps the OSError of a full disk in a RuntimeError
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return "disk_full"
        seen = seen.__cause__ or seen.__context__
    return "disk_full" if "no space left on device" in str(exc).lower() else "exception"


if __name__ == "__main__":
    raise SystemExit(main())
