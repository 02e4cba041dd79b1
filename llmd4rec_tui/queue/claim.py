"""Claiming the next run: one atomic UPDATE, so two workers never run the same run.

The statement is the same on both back ends: ``UPDATE runs SET status='running' ...
WHERE id = (next queued id) AND status = 'queued' RETURNING ...``. On PostgreSQL the
sub-select carries ``FOR UPDATE SKIP LOCKED`` so concurrent workers take different rows
without waiting; on SQLite the transaction starts with ``BEGIN IMMEDIATE``, which
serialises writers, and the status guard makes a lost race claim nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Run
from llmd4rec_tui.store.queries import CLAIM_ORDER
from llmd4rec_tui.store.records import now_utc


@dataclass(frozen=True)
class ClaimedRun:
    """What a worker needs to start the engine for one attempt."""

    id: int
    name: str
    attempt: int
    config_json: str
    config_hash: str
    seed: int
    run_dir: str
    last_checkpoint: str | None
    preemptions: int = 0  # times this run went back to the queue because its worker was preempted

    @property
    def resume(self) -> bool:
        """A later attempt, or a retried run with a checkpoint, continues where it stopped."""
        return self.attempt > 1 or self.last_checkpoint is not None


def claim_next(store: Store, worker_id: str, lease_s: float) -> ClaimedRun | None:
    """Take the first queued run in priority, then enqueue order; None when none is queued."""
    now = now_utc()
    next_id = (
        select(Run.id)
        .where(Run.status == "queued")
        .order_by(*CLAIM_ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Run)
        .where(Run.id == next_id, Run.status == "queued")
        .values(
            status="running",
            attempts=Run.attempts + 1,
            worker_id=worker_id,
            pid=None,
            started_at=now,
            finished_at=None,
            heartbeat_at=now,
            lease_expires_at=now + timedelta(seconds=lease_s),
            exit_code=None,
            failure_kind=None,
            error=None,
            traceback=None,
            stderr_tail=None,
        )
        .returning(
            Run.id,
            Run.name,
            Run.attempts,
            Run.config_json,
            Run.config_hash,
            Run.seed,
            Run.run_dir,
            Run.last_checkpoint,
            Run.preemptions,
        )
        .execution_options(synchronize_session=False)
    )
    with store.write() as session:
        row = session.execute(statement).first()
    if row is None:
        return None
    return ClaimedRun(*row)
