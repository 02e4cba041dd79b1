"""The run's events as log lines, appended as they arrive."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, RichLog

from engine.protocol import upgrade
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
    p = upgrade(event.payload)  # a stored protocol-1 payload names the model "phase"
    kind = event.type
    where = f"r{p.get('round')} {p.get('model', '')}".rstrip() if "round" in p else ""
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
    """Follows the tail until scrolled up (or `f`); `/` searches, `n` / `N` go to the next
    or previous line that matches."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("n", "find(1)", "Next match"),
        Binding("N", "find(-1)", "Prev match", show=False),
        Binding("f", "toggle_follow", "Follow"),
    ]

    class SearchRequested(Message):
        """`/` in the log: the panel around it shows its search box."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=False, markup=False, highlight=False, max_lines=20_000)
        self.follow = True
        self.query_text = ""
        self.match: int | None = None  # the line the last search landed on

    def add(self, events: Sequence[EventRecord]) -> None:
        self.auto_scroll = self.follow
        for event in events:
            line = Text()
            line.append(time.strftime("%H:%M:%S ", time.gmtime(event.ts)), style="dim")
            line.append(f"#{event.attempt} ", style="dim")
            line.append(f"{event.type:<13} ", style=TYPE_STYLES.get(event.type, "cyan"))
            line.append(describe(event))
            self.write(line)

    def on_resize(self, event: events.Resize) -> None:
        """A log that follows stays at its tail when its size changes (lines written before
        the first layout are laid out only then)."""
        super().on_resize(event)
        if self.follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling up stops following; scrolling back to the tail resumes it."""
        super().watch_scroll_y(old, new)
        if new < old and new < self.max_scroll_y:
            self.follow = False
        elif new >= self.max_scroll_y:
            self.follow = True

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        if self.follow:
            self.scroll_end(animate=False)
        self.notify("following the log" if self.follow else "log paused: f or scrolling to the end follows again")

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def search(self, text: str) -> None:
        self.query_text = text
        self.match = None
        self.action_find(1)

    def action_find(self, step: int) -> None:
        """Go to the next (step 1) or previous (-1) line holding the search text."""
        needle = self.query_text.lower()
        if not needle or not self.lines:
            return
        count = len(self.lines)
        start = self.match if self.match is not None else (int(self.scroll_offset.y) - step)
        for i in range(1, count + 1):
            index = (start + step * i) % count
            if needle in self.lines[index].text.lower():
                self.match, self.follow = index, False
                self.scroll_to(y=max(0, index - self.size.height // 2), animate=False)
                self.notify(f"line {index + 1} of {count}: {self.query_text}", timeout=2)
                return
        self.notify(f"not in the log: {self.query_text}", severity="warning", timeout=3)


class LogPanel(Vertical):
    """The event log with a search box under it that shows on `/`."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def compose(self) -> ComposeResult:
        yield EventLog(id="event-log")
        yield Input(placeholder="search the log (enter: find, esc: back)", id="log-search")

    def on_event_log_search_requested(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#log-search")
    def searched(self, event: Input.Submitted) -> None:
        log = self.query_one(EventLog)
        log.search(event.value)
        log.focus()

    def key_escape(self) -> None:
        box = self.query_one("#log-search", Input)
        if box.has_focus:
            box.display = False
            self.query_one(EventLog).focus()
