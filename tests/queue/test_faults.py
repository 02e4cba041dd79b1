"""The faults of issue 7, each against real worker processes and the fake engine."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from sqlalchemy import func, select

from llmd4rec_tui.queue import control
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import EventRow, Metric
from llmd4rec_tui.store.queries import list_runs, run_metrics
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, start_worker_process, steps_done, wait_for


def _finish(proc: object, timeout: float = 60) -> str:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    _, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, stderr
    return str(stderr)


def test_two_workers_race_over_50_runs_and_run_each_exactly_once(store: Store, db_url: str, tmp_path: Path) -> None:
    ids = queue_runs(store, 50)
    engine = fake_engine("--steps", "2")
    workers = [start_worker_process(db_url, tmp_path, engine, "--concurrency", "2", "--until-empty") for _ in range(2)]
    for worker in workers:
        _finish(worker, timeout=120)
    for run_id in ids:
        detail = read_run(store, run_id)
        assert (detail.run.status, detail.run.attempts) == ("succeeded", 1), run_id
        assert len(read_events(store, run_id, "run_started")) == 1
        assert steps_done(tmp_path, run_id) == [0, 1]
    assert len({read_run(store, run_id).run.worker_id for run_id in ids}) == 2  # both did work


def test_a_killed_worker_loses_its_run_and_another_resumes_it(store: Store, db_url: str, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    engine = fake_engine("--steps", "12", "--sleep", "0.15")
    first = start_worker_process(db_url, tmp_path, engine, lease_s=2)
    wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 3, what="three steps on the first worker")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    second = start_worker_process(db_url, tmp_path, engine, "--until-empty")  # reaps the 2 s lease
    _finish(second)
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.attempts) == ("succeeded", 2)
    assert steps_done(tmp_path, run_id) == list(range(12))  # resumed: no step ran twice, none skipped
    started = read_events(store, run_id, "run_started")
    assert [e.payload["resumed"] for e in started] == [False, True]
    assert [e.payload["now"] for e in read_events(store, run_id, "lost")] == ["queued"]


def test_a_killed_engine_fails_its_run_and_the_worker_goes_on(store: Store, db_url: str, tmp_path: Path) -> None:
    first, second = queue_runs(store, 2)
    worker = start_worker_process(db_url, tmp_path, fake_engine("--steps", "40", "--sleep", "0.05"), "--until-empty")
    wait_for(lambda: len(steps_done(tmp_path, first)) >= 2, what="the first run to start")
    pid = read_run(store, first).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _finish(worker)
    killed = read_run(store, first).run
    assert (killed.status, killed.failure_kind, killed.exit_code) == ("failed", "signal", -9)
    assert read_run(store, second).run.status == "succeeded"


def test_a_reader_polling_every_50ms_sees_no_errors_while_10000_events_arrive(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    (run_id,) = queue_runs(store, 1)
    errors: list[BaseException] = []
    polls: list[int] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                with store.session() as session:
                    list_runs(session)
                    count = select(func.count()).select_from(Metric).where(Metric.run_id == run_id)
                    polls.append(session.execute(count).scalar_one())
            except BaseException as exc:  # any error here is the failure under test
                errors.append(exc)
            done.wait(0.05)

    reader = threading.Thread(target=poll)
    reader.start()
    worker = start_worker_process(db_url, tmp_path, fake_engine("--steps", "100", "--events-per-step", "100"))
    try:
        wait_for(lambda: read_run(store, run_id).run.status == "succeeded", timeout=120, what="10,000 events")
    finally:
        worker.send_signal(signal.SIGTERM)
        _finish(worker)
        done.set()
        reader.join()
    assert errors == []
    assert len(polls) > 3 and polls == sorted(polls)  # the reader saw the run grow, never shrink
    with store.session() as session:
        steps = session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.run_id == run_id, EventRow.type == "step")
        )
        assert steps == 10_000
        assert len(run_metrics(session, run_id, split="train")) == 20_000  # ce and total per step
    assert read_run(store, run_id).run.events == 10_000 + 100 + 8  # steps, checkpoints, the rest


def test_cancel_stops_with_a_checkpoint_and_retry_resumes(store: Store, db_url: str, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    engine = fake_engine("--steps", "12", "--sleep", "0.15")
    worker = start_worker_process(db_url, tmp_path, engine)
    try:
        wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 3, what="three steps")
        assert control.cancel(store, [run_id]) == {run_id: "requested"}
        wait_for(lambda: read_run(store, run_id).run.status == "cancelled", what="the run to be cancelled")
    finally:
        worker.send_signal(signal.SIGTERM)
        _finish(worker)
    cancelled = read_run(store, run_id)
    assert cancelled.run.exit_code == 130 and cancelled.last_checkpoint is not None
    assert read_events(store, run_id, "run_cancelled")[0].payload["checkpoint"] == cancelled.last_checkpoint
    assert control.retry(store, [run_id]) == [run_id]
    _finish(start_worker_process(db_url, tmp_path, engine, "--until-empty"))
    assert read_run(store, run_id).run.status == "succeeded"
    assert steps_done(tmp_path, run_id) == list(range(12))
    assert [e.payload["resumed"] for e in read_events(store, run_id, "run_started")] == [False, True]


def test_stopping_a_worker_puts_its_run_back_in_the_queue(store: Store, db_url: str, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    worker = start_worker_process(db_url, tmp_path, fake_engine("--steps", "50", "--sleep", "0.1"))
    wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 2, what="two steps")
    worker.send_signal(signal.SIGTERM)
    _finish(worker)
    detail = read_run(store, run_id)
    # the interrupted attempt keeps its number and gives the run one attempt more
    assert (detail.run.status, detail.run.attempts, detail.run.max_attempts) == ("queued", 1, 4)
    assert detail.last_checkpoint is not None  # the next worker resumes from here
