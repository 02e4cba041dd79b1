"""Live workers and their heartbeats, under the Runs table; a cluster job's Slurm state beside its worker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from llmd4rec_tui.cluster.live_states import LiveSlurmStates
from llmd4rec_tui.formatting import format_age
from llmd4rec_tui.store.records import WorkerRecord

#: A heartbeat older than this is shown as lost: the worker died without stopping, and its
#: runs' leases run out (the next worker to poll re-queues them).
STALE_AFTER_S = 60.0
#: A lost worker silent for longer than this is no longer listed, only counted.
FORGET_AFTER_S = 3600.0


def workers_text(workers: Sequence[WorkerRecord], now: datetime, job_states: Mapping[str, str] | None = None) -> Text:
    shown = [w for w in workers if w.heartbeat_age_s(now) <= FORGET_AFTER_S]
    gone = len(workers) - len(shown)
    if not shown and not gone:
        return Text("no live workers · press w to start one", style="dim")
    text = Text()
    for i, worker in enumerate(shown):
        if i:
            text.append("   ")
        age = worker.heartbeat_age_s(now)
        if age > STALE_AFTER_S:
            text.append("✗ ", style="bold red")
            text.append(f"{worker.id} lost", style="red")
            text.append(f" · heard from {format_age(age)}", style="red")
        else:
            text.append("♥ ", style="green")
            text.append(f"{worker.id} {worker.running}/{worker.concurrency} runs ")
            text.append(format_age(age), style="green")
        if worker.cluster_job is not None:  # a lost job's Slurm state says why (PENDING, GONE)
            state = (job_states or {}).get(worker.cluster_job)
            text.append(f" · job {worker.cluster_job}" + (f" {state}" if state else ""), style="dim")
    if gone:
        text.append(("   " if shown else "") + f"{gone} worker(s) silent over an hour not shown", style="dim")
    return text


class WorkersPanel(Static):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    slurm_states = LiveSlurmStates()

    def show(self, workers: Sequence[WorkerRecord], now: datetime) -> None:
        jobs = [worker.cluster_job for worker in workers if worker.cluster_job is not None]
        self.update(workers_text(workers, now, self.slurm_states.get(jobs) if jobs else None))
