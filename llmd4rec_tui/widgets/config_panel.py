"""The resolved config and the reproducibility record of a run."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from engine.config import flatten
from llmd4rec_tui.store.records import RunDetail
from llmd4rec_tui.widgets.scroll_body import ScrollBody


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _pairs(title: str, pairs: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None, pad_edge=False)
    table.add_column(style="cyan", no_wrap=True)
    table.add_column()
    for key, value in pairs.items():
        table.add_row(key, _value(value))
    return table


def reproducibility(detail: RunDetail) -> dict[str, Any]:
    """What it takes to run this again and get the same numbers."""
    dirty = {None: "unknown", True: "dirty", False: "clean"}[detail.git_dirty]
    record: dict[str, Any] = {
        "config hash": detail.run.config_hash,
        "seed": detail.run.seed,
        "git commit": f"{detail.git_commit or 'unknown'} ({dirty})",
        "source": detail.source_path or "-",
        "worker": f"{detail.run.worker_id or '-'} pid {detail.pid or '-'}",
        "run dir": detail.run_dir or "-",
    }
    record.update({f"protocol.{k}": v for k, v in detail.protocol.items()})
    record.update({f"env.{k}": v for k, v in flatten(detail.environment).items()})
    return record


def config_renderable(detail: RunDetail) -> RenderableType:
    parts: list[RenderableType] = [_pairs("Reproducibility", reproducibility(detail)), Text("")]
    if detail.notes:
        parts += [Text("Notes", style="bold"), Text(detail.notes), Text("")]
    parts.append(_pairs("Resolved config", flatten(detail.config)))
    return Group(*parts)


class ConfigPanel(ScrollBody):
    def show(self, detail: RunDetail) -> None:
        self.draw(config_renderable(detail))
