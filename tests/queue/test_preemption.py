"""Preemption through real worker processes: SIGUSR1, or SIGTERM inside a cluster job.

The run goes back to the queue as `preempted` without counting an attempt, the worker
exits 75, and the next worker resumes the run after its last checkpoint (fake engine:
its last step; real tiny engine: its last finished epoch). A run preempted past the
limit fails instead of going round forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.config import config_from_dict
from engine.protocol import EXIT_PREEMPTED
from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
from llmd4rec_tui.queue.settings import ENV_CLUSTER_JOB
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Run
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, start_worker_process, steps_done, wait_for


def _exit_code(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    _, stderr = proc.communicate(timeout=timeout)
    return proc.returncode, stderr


def _preempt_mid_run(
    store: Store, db_url: str, tmp_path: Path, sig: signal.Signals, cluster_job: str | None
) -> tuple[int, str]:
    (run_id,) = queue_runs(store, 1)
    env_before = os.environ.get(ENV_CLUSTER_JOB)
    if cluster_job is not None:
        os.environ[ENV_CLUSTER_JOB] = cluster_job
    try:
        worker = start_worker_process(db_url, tmp_path, fake_engine("--steps", "30", "--sleep", "0.1"))
    finally:
        if env_before is None:
            os.environ.pop(ENV_CLUSTER_JOB, None)
    try:
        wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 3, timeout=120, what="three steps")
    except AssertionError:
        worker.kill()
        raise AssertionError(worker.communicate()) from None
    worker.send_signal(sig)
    code, stderr = _exit_code(worker)
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.failure_kind, detail.run.attempts) == ("queued", "preempted", 1), stderr
    assert detail.last_checkpoint is not None
    stops = read_events(store, run_id, "stop")
    assert [e.payload["reason"] for e in stops] in (["worker preempted"], [])  # [] if the engine stopped first
    with store.session() as session:
        assert session.scalar(select(Run.preemptions).where(Run.id == run_id)) == 1
    return code, stderr


@pytest.mark.parametrize(
    ("sig", "cluster_job"), [(signal.SIGUSR1, None), (signal.SIGTERM, "77_0")], ids=["sigusr1", "sigterm-in-a-job"]
)
def test_a_preempted_worker_requeues_its_run_and_another_resumes_it(
    store: Store, db_url: str, tmp_path: Path, sig: signal.Signals, cluster_job: str | None
) -> None:
    code, stderr = _preempt_mid_run(store, db_url, tmp_path, sig, cluster_job)
    assert code == EXIT_PREEMPTED, stderr
    assert "preempted after 1 attempt(s)" in stderr
    run_id = 1
    second = start_worker_process(db_url, tmp_path, fake_engine("--steps", "30"), "--until-empty")
    assert _exit_code(second)[0] == 0
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.attempts) == ("succeeded", 2)  # attempt numbers never repeat
    assert steps_done(tmp_path, run_id) == list(range(30))  # no step ran twice
    assert [e.payload["resumed"] for e in read_events(store, run_id, "run_started")] == [False, True]


def test_sigterm_outside_a_cluster_job_is_a_plain_stop(store: Store, db_url: str, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    worker = start_worker_process(db_url, tmp_path, fake_engine("--steps", "30", "--sleep", "0.1"))
    wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 2, timeout=120, what="two steps")
    worker.send_signal(signal.SIGTERM)
    code, stderr = _exit_code(worker)
    assert code == 0, stderr
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.failure_kind) == ("queued", None)


def test_a_run_preempted_past_its_limit_fails(store: Store, db_url: str, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    engine = fake_engine("--steps", "40", "--sleep", "0.1")
    for preempted in range(2):
        worker = start_worker_process(db_url, tmp_path, engine, "--max-preemptions", "1")
        done_before = len(steps_done(tmp_path, run_id))
        wait_for(lambda: len(steps_done(tmp_path, run_id)) >= done_before + 2, timeout=120, what="two more steps")  # noqa: B023
        worker.send_signal(signal.SIGUSR1)
        assert _exit_code(worker)[0] == EXIT_PREEMPTED
        status = read_run(store, run_id).run
        assert (status.status, status.failure_kind) == (
            ("queued", "preempted") if preempted == 0 else ("failed", "preempted")
        )
    assert "preempted 2 times, over the limit of 1" in (read_run(store, run_id).run.error or "")


def _tiny_crm(epochs: int) -> PendingRun:
    raw = {
        "run": {"name": "tiny crm", "seed": 5},
        "data": {"dataset": "synthetic", "synthetic_users": 300, "synthetic_items": 60, "synthetic_length": 12},
        "crm": {"hidden_size": 16, "num_layers": 1, "num_heads": 1},
        "distill": {"mode": "none", "model": "crm"},
        "train": {"crm_epochs": epochs, "crm_batch_size": 16, "patience": epochs, "threads": 1, "step_every_s": 0.0},
    }
    return PendingRun(Path("tiny.toml"), config_from_dict(raw, "tiny.toml"), "")


@pytest.mark.slow
def test_the_real_engine_resumes_after_its_last_finished_epoch(store: Store, db_url: str, tmp_path: Path) -> None:
    (run_id,) = add_runs(store, [_tiny_crm(epochs=8)]).added
    engine = [sys.executable, "-m", "engine"]
    worker = start_worker_process(db_url, tmp_path, engine)
    wait_for(lambda: len(read_events(store, run_id, "epoch_end")) >= 2, timeout=120, what="two epochs")
    worker.send_signal(signal.SIGUSR1)
    code, stderr = _exit_code(worker, timeout=120)
    assert code == EXIT_PREEMPTED, stderr
    first = [e.payload["epoch"] for e in read_events(store, run_id, "epoch_end")]
    assert read_run(store, run_id).run.failure_kind == "preempted"
    second = start_worker_process(db_url, tmp_path, engine, "--until-empty")
    assert _exit_code(second, timeout=180)[0] == 0
    detail = read_run(store, run_id)
    assert detail.run.status == "succeeded"
    epochs = [e.payload["epoch"] for e in read_events(store, run_id, "epoch_end")]
    assert epochs[: len(first)] == first and len(epochs) > len(first)
    assert len(epochs) == len(set(epochs)), epochs  # no finished epoch was trained again
    assert epochs[len(first)] == first[-1] + 1
