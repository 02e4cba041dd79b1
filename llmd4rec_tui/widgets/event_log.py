"""The run's events as log lines, appended as they arrive."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.widgets import RichLog

from llmd4rec_tui.store.records import EventRecord

TYPE_STYLES = {"run_failed": "bold red", "bad_line": "red", "run_finished": "bold green", "log": "yellow"}


def _losses(values: Any) -> str:
    if not isinstance(values, dict):
        return ""
    return " ".join(f"{k}={v:.4f}" for k, v in values.items() if isinstance(v, int | float))


def _teacher_cache(cache: Any) -> str:
    """What the frozen teacher's logits cost: samples, size, where they are kept, seconds."""
    if not isinstance(cache, dict) or "samples" not in cache:
        return ""
    size = cache.get("bytes", 0) / 1e6
    where = {"disk": "on disk", "memory": "in memory"}.get(str(cache.get("where")), "")
    return f"; teacher logits: {cache['samples']:,} samples, {size:,.0f} MB {where}, {cache.get('seconds', 0):.0f} s"


def describe(event: EventRecord) -> str:
    """One line per event, the facts a person scans for."""
    p = event.payload
    kind = event.type
    where = f"r{p.get('round')} {p.get('phase', '')}".rstrip() if "round" in p else ""
    if kind == "step":
        return f"{where} e{p.get('epoch')} step {p.get('step')} {_losses(p.get('losses'))}"
    if kind == "epoch_end":
        return f"{where} epoch {p.get('epoch')} done {_losses(p.get('losses'))} valid {_losses(p.get('valid'))}"
    if kind == "eval":
        return f"{where} {p.get('model')} {p.get('split')} {_losses(p.get('metrics'))}"
    if kind in ("weights", "params"):
        return f"{where} {p.get('name')} mean {p.get('mean', 0):.4f} std {p.get('std', 0):.4f}"
    if kind == "phase_started":
        line = f"{where} starts (teacher: {p.get('teacher') or 'none'}, {p.get('epochs')} epochs)"
        return line + _teacher_cache(p.get("teacher_cache"))
    if kind == "run_started":
        resumed = " (resumed)" if p.get("resumed") else ""
        return f"config {p.get('config_hash')} on {p.get('device')}{resumed}"
    if kind in ("round_end", "run_finished"):
        metrics = p.get("metrics") or {}
        return " ".join(f"{m}: {_losses(v)}" for m, v in metrics.items())
    if kind == "log":
        return f"{p.get('level', '')}: {p.get('message', '')}"
    if kind == "run_failed":
        return f"{p.get('kind', '')}: {p.get('message', '')}"
    if kind == "checkpoint":
        return f"{where} -> {p.get('path')}"
    if kind == "bad_line":
        return f"{p.get('reason', '')}: {str(p.get('line', ''))[:80]}"
    return ""


class EventLog(RichLog):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=False, markup=False, highlight=False, max_lines=20_000)

    def add(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            line = Text()
            line.append(time.strftime("%H:%M:%S ", time.gmtime(event.ts)), style="dim")
            line.append(f"#{event.attempt} ", style="dim")
            line.append(f"{event.type:<13} ", style=TYPE_STYLES.get(event.type, "cyan"))
            line.append(describe(event))
            self.write(line)
