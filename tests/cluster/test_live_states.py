"""The workers panel's Slurm states: from memory at once, read off-thread, empty without Slurm."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from llmd4rec_tui.cluster import slurm
from llmd4rec_tui.cluster.live_states import LiveSlurmStates
from llmd4rec_tui.store.records import WorkerRecord
from llmd4rec_tui.widgets.workers_panel import workers_text
from tests.queue.workers import wait_for

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def _worker(job: str | None) -> WorkerRecord:
    return WorkerRecord("node7:42:abc", "node7", 42, 1, NOW, NOW - timedelta(seconds=3), None, 1, job)


def test_a_cluster_workers_job_and_state_show_beside_its_heartbeat() -> None:
    text = workers_text([_worker("81234_0"), _worker(None)], NOW, {"81234_0": "RUNNING"}).plain
    assert "node7:42:abc 1/1 runs 3s ago · job 81234_0 RUNNING" in text
    assert text.count("· job") == 1  # a worker started by hand shows no job
    assert workers_text([_worker("81234_0")], NOW).plain.endswith("3s ago · job 81234_0")


def test_states_come_from_memory_and_are_read_on_another_thread() -> None:
    release = threading.Event()
    calls: list[tuple[str, ...]] = []

    def read(job_ids: Sequence[str]) -> dict[str, slurm.SlurmState]:
        calls.append(tuple(job_ids))
        release.wait(10)  # a slow scheduler must not hold up get()
        return {job_id: slurm.SlurmState(job_id, "PENDING") for job_id in job_ids}

    states = LiveSlurmStates(refresh_s=60, read=read)
    assert states.get(["5_0", "5_1"]) == {}
    assert states.get(["5_0", "5_1"]) == {}  # one read in flight at a time
    release.set()
    wait_for(lambda: states.get(["5_0"]) == {"5_0": "PENDING"}, 10, "the read to land")
    assert calls == [("5_0", "5_1")]  # fresh for refresh_s: no second read


def test_without_slurm_the_states_stay_empty() -> None:
    def missing(job_ids: Sequence[str]) -> dict[str, slurm.SlurmState]:
        raise slurm.SlurmError("squeue not found")

    states = LiveSlurmStates(refresh_s=0, read=missing)
    states.get(["1_0"])
    wait_for(lambda: not states._reading, 10, "the read to fail")
    assert states.get(["1_0"]) == {}
