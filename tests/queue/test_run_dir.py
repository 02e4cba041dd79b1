"""One run directory, one engine: a hung worker's engine stops itself, the next attempt
waits for the directory's lock, and nothing the old attempt sends is written after it lost
the run. Real worker processes and the fake engine."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.engine import make_url

from llmd4rec_tui.queue.run_dir import STAMP_NAME
from llmd4rec_tui.store.db import Store, open_store
from llmd4rec_tui.store.identity import database_id
from llmd4rec_tui.store.models import EventRow, Run, StoreMeta
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, run_worker, start_worker_process, steps_done, wait_for


def _stop_inside_a_transaction(worker: subprocess.Popen[str], db_url: str) -> None:
    """SIGSTOP the worker while its PostgreSQL session is inside a write transaction, the
    worst moment: it holds the run's row lock, which only the server's
    idle_in_transaction_session_timeout ends. Retried until the stop lands there."""
    import psycopg

    with psycopg.connect(make_url(db_url).set(drivername="postgresql").render_as_string(False), autocommit=True) as pg:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state = 'idle in transaction' AND (query LIKE 'INSERT%%' OR query LIKE '%%FOR UPDATE')"
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if pg.execute(query).fetchone() == (1,):
                worker.send_signal(signal.SIGSTOP)
                time.sleep(0.3)  # a query in flight finishes; is it still inside the transaction?
                if pg.execute(query).fetchone() == (1,):
                    return
                worker.send_signal(signal.SIGCONT)
    raise AssertionError("never caught the worker inside a transaction")


def _stop_outside_a_transaction(worker: subprocess.Popen[str], store: Store) -> None:
    """SIGSTOP the worker while this test holds SQLite's write lock, so it holds none: a
    process stopped inside a SQLite write transaction blocks every writer (no server ends it)."""
    with store.write() as session:
        session.execute(select(Run.id).limit(1))
        worker.send_signal(signal.SIGSTOP)
        # A signal is delivered when the kernel next schedules the process: on a loaded
        # machine it could start a write after this lock is released and stop inside it.
        wait_for(lambda: _is_stopped(worker.pid), 10, "the worker to stop")


def _is_stopped(pid: int) -> bool:
    """The process state in /proc/PID/stat is T (stopped by a signal)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] == "T"


def test_a_hung_worker_never_shares_its_run_directory_with_the_next_attempt(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    """Deterministic at the worst moments: a chatty engine (its stdout pipe fills while its
    worker is stopped) and, on PostgreSQL, a worker stopped holding the run's row lock."""
    (run_id,) = queue_runs(store, 1)
    engine = fake_engine("--steps", "30", "--sleep", "0.15", "--events-per-step", "200")
    hung = start_worker_process(db_url, tmp_path, engine, lease_s=2)
    try:
        wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 3, what="three steps on the first worker")
        if store.dialect == "postgresql":  # a frozen mount, a closed laptop lid
            _stop_inside_a_transaction(hung, db_url)
        else:
            _stop_outside_a_transaction(hung, store)
        second = start_worker_process(db_url, tmp_path, engine, "--until-empty")
        _, stderr = second.communicate(timeout=90)
        assert second.returncode == 0, stderr
    finally:
        hung.send_signal(signal.SIGCONT)
    time.sleep(1.0)  # the first worker wakes up, finds its engine gone and the run taken
    hung.send_signal(signal.SIGTERM)
    hung.communicate(timeout=30)
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.attempts) == ("succeeded", 2)
    assert steps_done(tmp_path, run_id) == list(range(30))  # never two engines at once: no step twice
    with store.session() as session:
        rows = session.execute(select(EventRow.id, EventRow.attempt, EventRow.type).where(EventRow.run_id == run_id))
        events = list(rows)
    (lost_id,) = [row_id for row_id, _, type_ in events if type_ == "lost"]
    late = [(row_id, type_) for row_id, attempt, type_ in events if attempt == 1 and row_id > lost_id]
    assert late == []  # nothing of attempt 1 written after it lost the run
    assert [e.payload["resumed"] for e in read_events(store, run_id, "run_started")] == [False, True]


def test_two_databases_in_one_folder_never_share_a_run_directory(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    stores = [open_store(f"sqlite:///{tmp_path / name}") for name in ("all.db", "laptop.db")]
    try:
        for store in stores:
            assert queue_runs(store, 1) == [1]  # ids restart at 1 in every database
            run_worker(store, runs_dir, "--steps", "2")
        dirs = [Path(read_run(store, 1).run_dir) for store in stores]
        ids = [database_id(store) for store in stores]
        assert [d.parent.name for d in dirs] == [f"all-{ids[0][:8]}", f"laptop-{ids[1][:8]}"]
        for run_dir, owner in zip(dirs, ids, strict=True):
            assert (run_dir / STAMP_NAME).read_text().strip() == owner
            assert [int(n) for n in (run_dir / "steps.log").read_text().split()] == [0, 1]
    finally:
        for store in stores:
            store.close()


def test_a_run_directory_stamped_by_another_database_is_refused_and_left_alone(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    theirs = tmp_path / "theirs" / "1"
    theirs.mkdir(parents=True)
    (theirs / STAMP_NAME).write_text("0123456789abcdef\n")
    (theirs / "checkpoint.json").write_text("their state")
    with store.write() as session:  # as a run of an older release, with its run_dir already stored
        session.execute(update(Run).where(Run.id == run_id).values(run_dir=str(theirs)))
    run_worker(store, tmp_path)
    run = read_run(store, run_id).run
    assert (run.status, run.failure_kind) == ("failed", "run_dir")
    assert "belongs to another database" in (run.error or "") and "0123456789abcdef" in (run.error or "")
    assert sorted(p.name for p in theirs.iterdir()) == [STAMP_NAME, "checkpoint.json"]
    assert (theirs / "checkpoint.json").read_text() == "their state"


def test_an_older_database_without_an_id_gets_one_on_first_use(store: Store) -> None:
    with store.write() as session:
        session.execute(delete(StoreMeta))
    first = database_id(store)
    assert len(first) == 32 and database_id(store) == first
