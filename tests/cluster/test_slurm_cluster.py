"""Workers on a real Slurm (scripts/slurm_local.sh start; .ci/run does it): the queue in PostgreSQL.

Each test submits through the CLI, as a user would, with the fake engine (it inherits
LLMD4REC_ENGINE_CMD through sbatch's --export=ALL), then watches the queue, never Slurm.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from llmd4rec_tui.store.db import Store, open_store
from llmd4rec_tui.store.models import Run, Worker
from tests.cluster.submitting import SLOW_START_S, cluster_cli, cluster_status, submit_workers
from tests.fixtures.databases import ENV_PG
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, steps_done, wait_for

ENV_SLURM = "LLMD4REC_TEST_SLURM"
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        not os.environ.get(ENV_SLURM), reason=f"{ENV_SLURM} not set: start one with scripts/slurm_local.sh start"
    ),
    pytest.mark.skipif(not os.environ.get(ENV_PG), reason=f"{ENV_PG} not set: the workers share a PostgreSQL queue"),
    pytest.mark.xdist_group("slurm"),  # one cluster of 4 slots: its tests run one after another
]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[str, Store]]:
    store = open_store(postgres_url)
    yield postgres_url, store
    store.close()


def _slurm_env() -> dict[str, str]:
    return {"SLURM_CONF": os.environ[ENV_SLURM]}


def _cli(db_url: str, *args: str, engine: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return cluster_cli(db_url, _slurm_env(), *args, engine=engine)


def _submit(db_url: str, runs_dir: Path, workers: int, engine: list[str], *extra: str) -> list[str]:
    return submit_workers(db_url, _slurm_env(), ["slurm"], runs_dir, workers, engine, *extra)


def _status(db_url: str) -> dict[str, dict[str, object]]:
    return {row["job_id"]: row for row in cluster_status(db_url, _slurm_env())["jobs"]}


def _scancel(*args: str) -> None:
    env = {**os.environ, "SLURM_CONF": os.environ[ENV_SLURM]}
    subprocess.run(["scancel", *args], env=env, check=True, timeout=30)


def _job_of(store: Store, worker_id: str) -> str:
    with store.session() as session:
        job = session.scalar(select(Worker.cluster_job).where(Worker.id == worker_id))
    assert job is not None
    return job


def test_two_workers_run_four_runs_exactly_once_and_leave(pg: tuple[str, Store], tmp_path: Path) -> None:
    db_url, store = pg
    ids = queue_runs(store, 4)
    jobs = _submit(db_url, tmp_path, 2, fake_engine("--steps", "4"), "--until-empty")
    try:
        assert len(jobs) == 2 and _status(db_url).keys() == set(jobs)
        wait_for(lambda: all(read_run(store, i).run.status == "succeeded" for i in ids), SLOW_START_S, "all four runs")
        for run_id in ids:
            assert read_run(store, run_id).run.attempts == 1
            assert steps_done(tmp_path, run_id) == [0, 1, 2, 3]  # ran once: no step twice
        wait_for(lambda: all(row["worker_stopped"] for row in _status(db_url).values()), 120, "workers to exit")
        rows = _status(db_url)
        assert {row["state"] for row in rows.values()} <= {"COMPLETING", "COMPLETED"}
        with store.session() as session:
            owners = set(session.scalars(select(Run.worker_id).where(Run.id.in_(ids))))
        assert owners <= {row["worker"] for row in rows.values()}
    finally:
        _scancel(jobs[0].split("_")[0])


@pytest.mark.parametrize("how", ["scancel", "usr1"])
def test_a_cancelled_job_requeues_its_run_and_another_worker_resumes_it(
    pg: tuple[str, Store], tmp_path: Path, how: str
) -> None:
    db_url, store = pg
    ids = queue_runs(store, 2)
    jobs = _submit(db_url, tmp_path, 2, fake_engine("--steps", "30", "--sleep", "0.5"), "--until-empty")
    try:
        wait_for(lambda: all(len(steps_done(tmp_path, i)) >= 3 for i in ids), SLOW_START_S, "both runs to train")
        first = read_run(store, ids[0]).run
        assert first.worker_id is not None
        job = _job_of(store, first.worker_id)
        if how == "scancel":
            _scancel(job)
        else:
            _scancel("--signal=USR1", "--batch", job)
        with store.session() as session:

            def preempted() -> bool:
                session.expire_all()
                return session.scalar(select(Run.preemptions).where(Run.id == ids[0])) == 1

            wait_for(preempted, 60, "the run to be preempted")
        wait_for(lambda: all(read_run(store, i).run.status == "succeeded" for i in ids), SLOW_START_S, "both runs")
        resumed = read_run(store, ids[0]).run
        assert resumed.worker_id != first.worker_id and resumed.attempts == 2
        assert steps_done(tmp_path, ids[0]) == list(range(30))  # resumed after its last step, none twice
        stops = [e.payload["reason"] for e in read_events(store, ids[0], "stop")]
        assert stops in (["worker preempted"], [])  # [] when the engine had scancel's SIGTERM first
        assert [e.payload["resumed"] for e in read_events(store, ids[0], "run_started")] == [False, True]
    finally:
        _scancel(jobs[0].split("_")[0])


def test_status_shows_a_running_worker_and_cancel_stops_it(pg: tuple[str, Store], tmp_path: Path) -> None:
    db_url, _ = pg
    (job,) = _submit(db_url, tmp_path, 1, fake_engine())
    try:
        wait_for(lambda: _status(db_url)[job]["worker"] is not None, SLOW_START_S, "the worker to register")
        row = _status(db_url)[job]
        assert row["state"] == "RUNNING" and row["node"] and not row["worker_stopped"]
        done = _cli(db_url, "cluster", "cancel")
        assert done.returncode == 0 and f"cancelled 1 job(s): {job.split('_')[0]}" in done.stdout, done.stderr
        wait_for(lambda: bool(_status(db_url)[job]["worker_stopped"]), 60, "the worker to stop")
        assert _status(db_url)[job]["cancelled_at"] is not None
        assert _cli(db_url, "cluster", "cancel").stdout.strip() == "no cluster jobs to cancel"
    finally:
        _scancel(job.split("_")[0])
