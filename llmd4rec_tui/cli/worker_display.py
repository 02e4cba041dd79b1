"""What `llmd4rec worker` shows while it works: a live table on a terminal, log lines elsewhere.

Both are WorkerObservers (queue/observer.py) fed from the supervisors' threads, so each
keeps its state under a lock. Position, samples/s and ETA come from reports/progress.py,
the same pace the Runs screen shows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.table import Table
from rich.text import Text

from engine.protocol import EpochEnd, Event, RunFinished
from llmd4rec_tui.formatting import format_duration, format_metric, format_rate
from llmd4rec_tui.queue.claim import ClaimedRun
from llmd4rec_tui.queue.outcome import Outcome
from llmd4rec_tui.reports.progress import Progress, ProgressTracker

KEY = "ndcg@10"


@dataclass
class Watched:
    """One attempt as the display knows it."""

    claim: ClaimedRun
    tracker: ProgressTracker = field(default_factory=ProgressTracker)
    final: dict[str, dict[str, float]] = field(default_factory=dict)  # model -> test metrics

    @property
    def label(self) -> str:
        return f"run {self.claim.id} ({self.claim.name})"


def pace_text(progress: Progress) -> str:
    """``850/s, eta 1:05`` for whatever the events have said so far."""
    parts = [format_rate(progress.samples_per_s, " samples/s", "")]
    if progress.eta_s is not None:
        parts.append(f"eta {format_duration(progress.eta_s)}")
    return ", ".join(p for p in parts if p)


def ending_text(watched: Watched, outcome: Outcome) -> str:
    """``run 3 (a) succeeded: test ndcg@10 crm 0.2500 llm 0.3000`` or the failure and its reason."""
    if outcome.status == "succeeded":
        scores = " ".join(f"{m} {format_metric(v.get(KEY))}" for m, v in sorted(watched.final.items()))
        return f"{watched.label} succeeded" + (f": test {KEY} {scores}" if scores else "")
    if outcome.status == "queued":
        return f"{watched.label} back in the queue: {outcome.error or outcome.failure_kind or 'worker stopping'}"
    kind = f" ({outcome.failure_kind})" if outcome.failure_kind else ""
    return f"{watched.label} {outcome.status}{kind}" + (f": {outcome.error}" if outcome.error else "")


class Watcher:
    """The runs this worker is running, folded from their events."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[int, Watched] = {}

    def _claimed(self, claim: ClaimedRun) -> Watched:
        with self.lock:
            watched = self.runs[claim.id] = Watched(claim)
            return watched

    def _event(self, claim: ClaimedRun, event: Event) -> Watched | None:
        with self.lock:
            watched = self.runs.get(claim.id)
            if watched is None:
                return None
            watched.tracker.add(event)
            if isinstance(event, RunFinished):
                watched.final = event.metrics
            return watched

    def _ended(self, claim: ClaimedRun) -> Watched:
        with self.lock:
            return self.runs.pop(claim.id, None) or Watched(claim)


class PlainLog(Watcher):
    """One line per fact, for a pipe or a cluster job's log: claimed, each epoch, the end."""

    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__()
        self.write = write

    def claimed(self, claim: ClaimedRun) -> None:
        watched = self._claimed(claim)
        self.write(f"{watched.label} claimed (attempt {claim.attempt})")

    def event(self, claim: ClaimedRun, event: Event) -> None:
        watched = self._event(claim, event)
        if watched is None or not isinstance(event, EpochEnd):
            return
        progress = watched.tracker.progress()
        shown = f"r{event.round} {event.model} epoch {event.epoch}" + (f"/{progress.epochs}" if progress.epochs else "")
        valid = f"valid {KEY} {format_metric(event.valid.get(KEY))}"
        pace = pace_text(progress)
        self.write(f"{watched.label} {shown}: {valid}" + (f", {pace}" if pace else ""))

    def ended(self, claim: ClaimedRun, outcome: Outcome) -> None:
        self.write(ending_text(self._ended(claim), outcome))


class LiveTable(Watcher):
    """A table of the running runs, for rich.live.Live to redraw; endings go to ``write`` above it."""

    def __init__(self, write: Callable[[str], None], clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.write, self.clock = write, clock

    def claimed(self, claim: ClaimedRun) -> None:
        self._claimed(claim)

    def event(self, claim: ClaimedRun, event: Event) -> None:
        self._event(claim, event)

    def ended(self, claim: ClaimedRun, outcome: Outcome) -> None:
        self.write(ending_text(self._ended(claim), outcome))

    def __rich__(self) -> Table:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for header in ("id", "name", "progress", "samples/s", "eta"):
            table.add_column(header, justify="right" if header in ("id", "samples/s", "eta") else "left")
        now = self.clock()
        with self.lock:
            rows = [(w.claim, w.tracker.progress(now)) for w in self.runs.values()]
        for claim, progress in rows:
            eta = "-" if progress.eta_s is None else format_duration(progress.eta_s)
            position = progress.position() if progress.phase else "starting"
            rate = format_rate(progress.samples_per_s, "", "-")
            table.add_row(str(claim.id), Text(claim.name), position, rate, eta)
        if not rows:
            table.add_row("", Text("waiting for runs"), "", "", "")
        return table
