"""Live workers and their heartbeats, under the Runs table; a cluster job's Slurm state beside its worker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from llmd4rec_tui.cluster.live_states import LiveSlurmStates
from llmd4rec_tui.store.records import WorkerRecord

#: A heartbeat older than this is shown as stale: the worker may have died.
STALE_AFTER_S = 60.0


def workers_text(workers: Sequence[WorkerRecord], now: datetime, job_states: Mapping[str, str] | None = None) -> Text:
    if not workers:
        return Text("no live workers · press w to start one", style="dim")
    text = Text()
    for i, worker in enumerate(workers):
        if i:
            text.append("   ")
        age = worker.heartbeat_age_s(now)
        style = "red" if age > STALE_AFTER_S else "green"
        text.append("♥ ", style=style)
        text.append(f"{worker.id} {worker.running}/{worker.concurrency} runs ")
        text.append(f"{age:.0f}s ago", style=style)
        if worker.cluster_job is not None:
            state = (job_states or {}).get(worker.cluster_job)
            text.append(f" · job {worker.cluster_job}" + (f" {state}" if state else ""), style="dim")
    return text


class WorkersPanel(Static):
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    slurm_states = LiveSlurmStates()

    def show(self, workers: Sequence[WorkerRecord], now: datetime) -> None:
        jobs = [worker.cluster_job for worker in workers if worker.cluster_job is not None]
        self.update(workers_text(workers, now, self.slurm_states.get(jobs) if jobs else None))
