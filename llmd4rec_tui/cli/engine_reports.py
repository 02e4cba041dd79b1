"""Ask ``python -m engine data|models ...`` for a JSON report, as `models fetch` asks its converter.

The data stack (NumPy, the loaders, the cache) stays in that process; here only its report
or its one error line arrive, with the engine's exit code: 2 for a bad config, else 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import typer

from engine.protocol import EXIT_USAGE as ENGINE_USAGE
from llmd4rec_tui.cli.common import EXIT_RUNTIME, EXIT_USAGE, fail


def engine_report(module: str, args: list[str], what: str) -> dict[str, Any]:
    """Run ``python -m <module> *args`` and return the JSON object it printed last."""
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise _failure(result, what)
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def require_fetched(command: str, kind: str, name: str, fetched: tuple[str, ...], in_code: str) -> None:
    """A usage error unless ``name`` is one of the catalog's ``fetched`` names; ``in_code``
    (the synthetic dataset, the tiny-random backbone) is made in code and says so."""
    if name in fetched:
        return
    extra = f" ({name} is made in code and needs no fetch)" if name == in_code else ""
    raise fail(f"{command}: unknown {kind} {name!r}; expected one of {', '.join(fetched)}{extra}", EXIT_USAGE)


def cache_args(cache_dir: str | None) -> list[str]:
    """The engine's --cache-dir, when the user gave one."""
    return ["--cache-dir", cache_dir] if cache_dir else []


def _failure(result: subprocess.CompletedProcess[str], what: str) -> typer.Exit:
    lines = result.stderr.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("error:")]
    if starts:  # the message may span lines; whatever was logged before it is not the error
        message = "\n".join(lines[starts[-1] :]).removeprefix("error:").strip()
    else:
        message = result.stderr.strip()[-500:] or f"the engine exited with code {result.returncode}"
    code = EXIT_USAGE if result.returncode == ENGINE_USAGE else EXIT_RUNTIME
    return fail(f"{what}: {message}" if what else message, code=code)
