"""Leases and heartbeats: how a dead worker's runs are noticed and put back in the queue.

A worker renews the lease of each of its runs every heartbeat. Any worker reaps runs
whose lease has expired: such a run is 'lost'; it is re-queued (and resumes from its
checkpoint) while attempts < max_attempts, and stays lost otherwise.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update

from llmd4rec_tui.store.db import IDLE_IN_TRANSACTION_MS, Store
from llmd4rec_tui.store.models import EventRow, Run, Worker
from llmd4rec_tui.store.records import now_utc


@dataclass(frozen=True)
class LeaseState:
    held: bool  # False: the run was reaped or taken away; stop working on it
    cancel_requested: bool


def renew_lease(store: Store, run_id: int, worker_id: str, lease_s: float) -> LeaseState:
    now = now_utc()
    statement = (
        update(Run)
        .where(Run.id == run_id, Run.worker_id == worker_id, Run.status == "running")
        .values(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=lease_s))
        .returning(Run.cancel_requested)
        .execution_options(synchronize_session=False)
    )
    with store.write() as session:
        row = session.execute(statement).first()
    if row is None:
        return LeaseState(held=False, cancel_requested=False)
    return LeaseState(held=True, cancel_requested=bool(row[0]))


def reap_expired(store: Store, now: datetime | None = None) -> list[int]:
    """Mark running runs with an expired lease lost; re-queue those with attempts left.

    A plain read first: the common case (nothing expired) takes no write lock.
    """
    now = now or now_utc()
    expired_query = select(Run.id).where(Run.status == "running", Run.lease_expires_at < now).limit(1)
    with store.session() as session:
        if session.scalar(expired_query) is None:
            return []
    reaped: list[int] = []
    with store.write() as session:
        expired = session.scalars(
            select(Run).where(Run.status == "running", Run.lease_expires_at < now).with_for_update(skip_locked=True)
        )
        for run in expired:
            message = f"lease expired at {run.lease_expires_at} on worker {run.worker_id} (attempt {run.attempts})"
            if run.cancel_requested:
                run.status, run.failure_kind, run.finished_at = "cancelled", "cancelled", now
            elif run.attempts < run.max_attempts:
                run.status, run.failure_kind = "queued", "lost"
            else:
                run.status, run.failure_kind, run.finished_at = "lost", "lost", now
                message += f"; {run.max_attempts} attempts used"
            run.error = message
            run.worker_id = run.pid = run.lease_expires_at = None
            session.add(
                EventRow(
                    run_id=run.id,
                    attempt=run.attempts,
                    type="lost",
                    ts=time.time(),
                    payload={"message": message, "now": run.status},
                )
            )
            reaped.append(run.id)
    if not reaped and store.dialect == "postgresql":
        _end_stuck_sessions(store)  # an expired run stayed locked: its holder is stuck mid-transaction
    return reaped


def _end_stuck_sessions(store: Store) -> None:
    """End this role's sessions that sat inside a transaction past IDLE_IN_TRANSACTION_MS.

    The server's idle_in_transaction_session_timeout covers a client that stopped between
    statements, but not one stopped halfway through a pipelined batch (psycopg's
    executemany): that session keeps its row lock on the run forever, and the reaper, which
    skips locked rows, would never re-queue the run. The next reap pass takes it.
    """
    with store.engine.connect() as connection, connection.begin():
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid()"
                " AND state LIKE 'idle in transaction%' AND state_change < now() - make_interval(secs => :idle_s)"
            ),
            {"idle_s": IDLE_IN_TRANSACTION_MS / 1000},
        )


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


def register_worker(store: Store, worker_id: str, concurrency: int, cluster_job: str | None = None) -> None:
    now = now_utc()
    with store.write() as session:
        session.add(
            Worker(
                id=worker_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                concurrency=concurrency,
                cluster_job=cluster_job,
                started_at=now,
                heartbeat_at=now,
            )
        )


def worker_heartbeat(store: Store, worker_id: str, stopped: bool = False) -> None:
    now = now_utc()
    values = {"heartbeat_at": now, "stopped_at": now} if stopped else {"heartbeat_at": now}
    with store.write() as session:
        session.execute(update(Worker).where(Worker.id == worker_id).values(**values))
