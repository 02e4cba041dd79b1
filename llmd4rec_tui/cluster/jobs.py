"""The cluster_jobs table: which workers `cluster submit` placed, and who is behind each.

A job row is written once at submit and marked at cancel; its live state is asked of the
scheduler when shown. Each job is paired with the newest worker that registered under its
id (a requeued job starts a new worker with the same job id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import ClusterJob
from llmd4rec_tui.store.queries import list_workers
from llmd4rec_tui.store.records import WorkerRecord, now_utc, utc


@dataclass(frozen=True)
class ClusterJobRecord:
    backend: str
    job_id: str
    array_id: str
    submitted_at: datetime
    cancelled_at: datetime | None
    options: dict[str, Any]
    worker: WorkerRecord | None  # the newest worker that registered under this job id


def record_jobs(store: Store, backend: str, array_id: str, job_ids: Sequence[str], options: dict[str, Any]) -> None:
    now = now_utc()
    with store.write() as session:
        session.add_all(
            ClusterJob(backend=backend, job_id=job_id, array_id=array_id, submitted_at=now, options=options)
            for job_id in job_ids
        )


def list_jobs(store: Store, include_cancelled: bool = True) -> list[ClusterJobRecord]:
    """Every recorded job in submit order, each with its newest worker."""
    with store.session() as session:
        query = select(ClusterJob).order_by(ClusterJob.id)
        if not include_cancelled:
            query = query.where(ClusterJob.cancelled_at.is_(None))
        jobs = list(session.scalars(query))
        newest: dict[str, WorkerRecord] = {}
        for worker in list_workers(session):  # in start order: a later one replaces an earlier one
            if worker.cluster_job is not None:
                newest[worker.cluster_job] = worker
        return [
            ClusterJobRecord(
                job.backend,
                job.job_id,
                job.array_id,
                utc(job.submitted_at),
                utc(job.cancelled_at),
                dict(job.options or {}),
                newest.get(job.job_id),
            )
            for job in jobs
        ]


def mark_cancelled(store: Store, job_ids: Sequence[str]) -> None:
    with store.write() as session:
        session.execute(
            update(ClusterJob)
            .where(ClusterJob.job_id.in_(list(job_ids)), ClusterJob.cancelled_at.is_(None))
            .values(cancelled_at=now_utc())
        )
