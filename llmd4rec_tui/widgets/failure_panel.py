"""Why a run failed: infrastructure (lost, killed, out of memory) or code (a traceback)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.protocol import RunFailed
from llmd4rec_tui.store.records import RunDetail

KIND_HELP = {
    "exception": "the code raised: see the traceback",
    "oom": "out of memory: lower batch sizes or model size",
    "signal": "the engine was killed from outside",
    "config": "the engine refused the config",
    "lost": "its worker stopped sending heartbeats",
    "cancelled": "stopped on request",
}


def failure_renderable(detail: RunDetail, event: RunFailed | None) -> RenderableType:
    run = detail.run
    kind = run.failure_kind or (event.kind if event else None)
    message = run.error or (event.message if event else None)
    trace = detail.traceback or (event.traceback if event else None)
    if run.status not in ("failed", "lost") and not message:
        return Text(f"no failure: the run is {run.status}", style="dim")
    parts: list[RenderableType] = []
    head = Text(f"{run.status}", style="bold red")
    if kind:
        head.append(f" · {kind}", style="red")
        head.append(f" ({KIND_HELP.get(kind, kind)})", style="dim")
    if run.exit_code is not None:
        head.append(f" · exit code {run.exit_code}")
    parts.append(head)
    if message:
        parts.append(Text(message, style="bold"))
    if trace:
        parts += [Text(""), Text("Traceback", style="bold"), Text(trace)]
    if detail.stderr_tail:
        parts += [Text(""), Text("stderr (last lines)", style="bold"), Text(detail.stderr_tail, style="dim")]
    return Group(*parts)


class FailurePanel(VerticalScroll, can_focus=True):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def compose(self) -> ComposeResult:
        yield Static(id="failure-body")

    def show(self, detail: RunDetail, event: RunFailed | None) -> None:
        self.query_one("#failure-body", Static).update(failure_renderable(detail, event))
