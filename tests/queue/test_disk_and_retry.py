"""A full disk (OSError ENOSPC injected; a database that refuses every write) and retries
that keep counting attempts, through the worker and the fake engine."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.queue import control
from llmd4rec_tui.queue.settings import WorkerSettings
from llmd4rec_tui.queue.worker import QueueWorker
from llmd4rec_tui.store.db import Store
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, run_dir_of, run_worker, steps_done, wait_for


def test_no_space_for_the_run_directory_fails_the_run_as_disk_full_and_leaves_no_temp_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (run_id,) = queue_runs(store, 1)
    write_text = Path.write_text

    def full(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        if self.name.endswith(".tmp"):
            write_text(self, data[:10], *args, **kwargs)  # a partial write, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    run_worker(store, tmp_path)
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.failure_kind) == ("failed", "disk_full")
    assert str(run_dir_of(tmp_path, run_id) / "config.json") in (detail.run.error or "")
    assert list((run_dir_of(tmp_path, run_id)).glob("*.tmp")) == []  # the partial temp file is gone


@contextmanager
def _database_refuses_writes(store: Store) -> Iterator[None]:
    original = store.write

    @contextmanager
    def refuse() -> Iterator[Any]:
        raise OperationalError("UPDATE ...", {}, Exception("database or disk is full"))
        yield  # pragma: no cover

    store.write = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        store.write = original  # type: ignore[method-assign]


def test_a_stop_wins_even_when_the_database_refuses_every_write(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    settings = WorkerSettings(
        poll_s=0.05, heartbeat_s=0.2, lease_s=5.0, grace_s=1.0, runs_dir=tmp_path,
        engine_cmd=fake_engine("--steps", "500", "--sleep", "0.05"),
    )  # fmt: skip
    worker = QueueWorker(store, settings)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 2, what="the engine to start")
    with _database_refuses_writes(store):
        worker.request_stop()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the worker ignored its stop while the database was full"
    done = steps_done(tmp_path, run_id)
    assert len(done) < 500  # the engine was stopped too
    assert (run_dir_of(tmp_path, run_id) / "checkpoint.json").exists()  # what it committed is kept


def test_retry_keeps_counting_attempts_and_records_what_ended_each(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    run_worker(store, tmp_path, "--fail-at", "1")
    assert read_run(store, run_id).run.attempts == 1
    assert control.retry(store, [run_id]) == [run_id]
    run_worker(store, tmp_path, "--steps", "3")
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.attempts, detail.run.max_attempts) == ("succeeded", 2, 4)
    assert [e.attempt for e in read_events(store, run_id, "run_started")] == [1, 2]
    (retried,) = read_events(store, run_id, "retried")
    assert retried.attempt == 1 and retried.payload["failure_kind"] == "exception"


def test_runs_show_lists_every_attempt_with_how_and_when_it_ended(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    run_worker(store, tmp_path, "--fail-at", "1")
    control.retry(store, [run_id])
    run_worker(store, tmp_path, "--steps", "2")
    history = read_run(store, run_id).history
    assert [(a.attempt, a.ended) for a in history] == [(1, "failed (exception)"), (2, "succeeded")]
    assert "step failed on purpose" in history[0].message
    assert all(a.started_at is not None and a.ended_at is not None and a.started_at <= a.ended_at for a in history)
    assert history[0].ended_at <= history[1].started_at  # type: ignore[operator]
    result = CliRunner().invoke(app, ["--db", store.url, "runs", "show", str(run_id)], terminal_width=200)
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("attempts") :]
    lines = [line for line in table.splitlines() if line.strip().startswith(("│ 1", "│ 2", "1 ", "2 "))]
    assert len(lines) == 2 and "failed (exception)" in lines[0] and "succeeded" in lines[1], table


def test_an_attempt_a_worker_shutdown_interrupted_keeps_its_number(store: Store, tmp_path: Path) -> None:
    """The interrupted attempt does not use up the budget, but the next one is a new number:
    the log and the Run screen tell their events apart."""
    (run_id,) = queue_runs(store, 1)
    settings = WorkerSettings(
        poll_s=0.05, heartbeat_s=0.2, lease_s=5.0, grace_s=2.0, runs_dir=tmp_path,
        engine_cmd=fake_engine("--steps", "500", "--sleep", "0.05"),
    )  # fmt: skip
    worker = QueueWorker(store, settings)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 2, what="the engine to start")
    worker.request_stop()
    thread.join(timeout=20)
    stopped = read_run(store, run_id).run
    assert (stopped.status, stopped.attempts, stopped.max_attempts) == ("queued", 1, 4)
    run_worker(store, tmp_path, "--steps", "3")
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.attempts) == ("succeeded", 2)
    assert [e.attempt for e in read_events(store, run_id, "run_started")] == [1, 2]
