"""One run directory, one engine: a hung worker's engine stops itself, the next attempt
waits for the directory's lock, and nothing the old attempt sends is written after it lost
the run. Real worker processes and the fake engine."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from sqlalchemy import select

from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import EventRow
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, start_worker_process, steps_done, wait_for


def test_a_hung_worker_never_shares_its_run_directory_with_the_next_attempt(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    (run_id,) = queue_runs(store, 1)
    engine = fake_engine("--steps", "30", "--sleep", "0.15")
    hung = start_worker_process(db_url, tmp_path, engine, lease_s=2)
    try:
        wait_for(lambda: len(steps_done(tmp_path, run_id)) >= 3, what="three steps on the first worker")
        hung.send_signal(signal.SIGSTOP)  # a frozen mount, a closed laptop lid
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
