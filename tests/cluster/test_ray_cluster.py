"""Workers on a real one-node Ray cluster (2 CPUs, started here), the queue in a SQLite file.

Each test submits through the CLI, as a user would, with the fake engine (it reaches the
workers through the LLMD4REC_* variables `cluster submit` passes on), then watches the
queue and `cluster status`, never Ray itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from llmd4rec_tui.store.db import Store, open_store
from llmd4rec_tui.store.models import Run, Worker
from tests.cluster.submitting import SLOW_START_S, cluster_cli, cluster_status, submit_workers
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.fixtures.ray_head import RAY_ENV, ray_head
from tests.queue.workers import fake_engine, steps_done, wait_for

pytest.importorskip("ray", reason="Ray is not installed: pip install -c constraints.txt -e '.[ray]'")
pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]  # one head, its tests one after another


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    with ray_head(num_cpus=2) as head:
        yield head


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    db_url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = open_store(db_url)
    yield db_url, store
    with store.session() as session:  # whatever a failed test left running: stop the workers it started
        pids = list(session.scalars(select(Worker.pid).where(Worker.stopped_at.is_(None))))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    store.close()


def _cli(db_url: str, *args: str, engine: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return cluster_cli(db_url, RAY_ENV, *args, engine=engine, timeout=180)


def _submit(db_url: str, address: str, runs_dir: Path, workers: int, engine: list[str], *extra: str) -> list[str]:
    return submit_workers(
        db_url, RAY_ENV, ["ray", "--address", address], runs_dir, workers, engine, *extra, timeout=180
    )


def _status(db_url: str) -> dict[str, dict[str, object]]:
    shown = cluster_status(db_url, RAY_ENV, timeout=180)
    assert shown["error"] is None, shown["error"]
    return {row["job_id"]: row for row in shown["jobs"]}


def test_two_ray_workers_run_three_runs_exactly_once_and_leave(
    address: str, sqlite: tuple[str, Store], tmp_path: Path
) -> None:
    db_url, store = sqlite
    ids = queue_runs(store, 3)
    jobs = _submit(db_url, address, tmp_path, 2, fake_engine("--steps", "4"), "--until-empty")
    assert len(jobs) == 2 and _status(db_url).keys() == set(jobs)
    wait_for(lambda: all(read_run(store, i).run.status == "succeeded" for i in ids), SLOW_START_S, "all three runs")
    for run_id in ids:
        assert read_run(store, run_id).run.attempts == 1
        assert steps_done(tmp_path, run_id) == [0, 1, 2, 3]  # ran once: no step twice
    wait_for(lambda: all(row["worker_stopped"] for row in _status(db_url).values()), 120, "workers to exit")
    wait_for(lambda: {row["state"] for row in _status(db_url).values()} == {"DEAD"}, 60, "actors to end")
    rows = _status(db_url)
    assert all(row["backend"] == "ray" and row["node"] and not row["reason"] for row in rows.values())
    with store.session() as session:
        owners = set(session.scalars(select(Run.worker_id).where(Run.id.in_(ids))))
    assert owners <= {row["worker"] for row in rows.values()}
    assert _cli(db_url, "cluster", "cancel").stdout.strip().startswith("cancelled 2 job(s)")  # already gone: fine


def test_cancel_sigterms_the_worker_which_requeues_its_run_as_preempted(
    address: str, sqlite: tuple[str, Store], tmp_path: Path
) -> None:
    db_url, store = sqlite
    (run_id,) = queue_runs(store, 1)
    (job,) = _submit(db_url, address, tmp_path, 1, fake_engine("--steps", "60", "--sleep", "0.5"))
    wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 3, SLOW_START_S, "the run to train")
    row = _status(db_url)[job]
    assert row["state"] == "ALIVE" and row["worker"] and row["running"] == 1
    done = _cli(db_url, "cluster", "cancel")
    assert done.returncode == 0 and done.stdout.strip() == f"cancelled 1 job(s): {job.rsplit('_', 1)[0]}", done.stderr
    wait_for(lambda: read_run(store, run_id).run.status == "queued", 60, "the run to go back to the queue")
    with store.session() as session:
        assert session.scalar(select(Run.preemptions).where(Run.id == run_id)) == 1
    assert read_run(store, run_id).run.attempts == 1  # a preempted attempt does not count
    assert [e.payload["reason"] for e in read_events(store, run_id, "stop")] == ["worker preempted"]
    wait_for(lambda: _status(db_url)[job]["state"] == "DEAD", 60, "the actor to end")
    assert _status(db_url)[job]["worker_stopped"] and _status(db_url)[job]["cancelled_at"] is not None
    assert _cli(db_url, "cluster", "cancel").stdout.strip() == "no cluster jobs to cancel"
