"""Listing and showing runs: read-only queries that return frozen records.

The caller frames the session; these functions only read, from the runs and summary
tables (raw metrics only for one run's detail), so a listing stays fast with many runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from llmd4rec_tui.store.models import EventRow, Metric, Run, RunSummary, Worker
from llmd4rec_tui.store.records import EventRecord, MetricRecord, RunDetail, RunRecord, WorkerRecord, utc

#: Claim order: what a worker takes next comes first.
CLAIM_ORDER = (Run.priority, Run.enqueued_at, Run.id)


def list_runs(
    session: Session,
    statuses: Sequence[str] = (),
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = True,
) -> list[RunRecord]:
    """Runs with their summaries, optionally of some statuses, one page at a time."""
    query = select(Run, RunSummary).outerjoin(RunSummary, RunSummary.run_id == Run.id)
    if statuses:
        query = query.where(Run.status.in_(statuses))
    query = query.order_by(Run.id.desc() if newest_first else Run.id).offset(offset).limit(limit)
    return [RunRecord.from_rows(run, summary) for run, summary in session.execute(query)]


def queue_order(session: Session, include_held: bool = True) -> list[RunRecord]:
    """Running runs first, then the waiting ones in the order workers will claim them."""
    statuses = ["running", "queued"] + (["held"] if include_held else [])
    running_first = case((Run.status == "running", 0), else_=1)
    query = (
        select(Run, RunSummary)
        .outerjoin(RunSummary, RunSummary.run_id == Run.id)
        .where(Run.status.in_(statuses))
        .order_by(running_first, *CLAIM_ORDER)
    )
    return [RunRecord.from_rows(run, summary) for run, summary in session.execute(query)]


def get_run(session: Session, run_id: int) -> RunDetail | None:
    run = session.get(Run, run_id)
    if run is None:
        return None
    summary = session.get(RunSummary, run_id)
    evals = session.scalars(
        select(Metric)
        .where(Metric.run_id == run_id, Metric.split.in_(("valid", "test")), Metric.model != "")
        .order_by(Metric.round, Metric.id)
    )
    return RunDetail(
        run=RunRecord.from_rows(run, summary),
        source_path=run.source_path,
        config_toml=run.config_toml,
        config=json.loads(run.config_json),
        notes=run.notes,
        run_dir=run.run_dir,
        pid=run.pid,
        heartbeat_at=utc(run.heartbeat_at),
        lease_expires_at=utc(run.lease_expires_at),
        traceback=run.traceback,
        stderr_tail=run.stderr_tail,
        last_checkpoint=run.last_checkpoint,
        git_commit=run.git_commit,
        git_dirty=run.git_dirty,
        environment=dict(run.environment or {}),
        protocol=dict(run.protocol or {}),
        metrics=dict(summary.metrics or {}) if summary else {},
        last_losses=dict(summary.last_losses or {}) if summary else {},
        evals=tuple(MetricRecord.from_row(row) for row in evals),
    )


def run_metrics(session: Session, run_id: int, split: str | None = None) -> list[MetricRecord]:
    query = select(Metric).where(Metric.run_id == run_id)
    if split is not None:
        query = query.where(Metric.split == split)
    return [MetricRecord.from_row(row) for row in session.scalars(query.order_by(Metric.id))]


def run_events(session: Session, run_id: int, types: Sequence[str] = (), after_id: int = 0) -> list[EventRecord]:
    query = select(EventRow).where(EventRow.run_id == run_id, EventRow.id > after_id)
    if types:
        query = query.where(EventRow.type.in_(types))
    return [
        EventRecord(row.id, row.attempt, row.type, row.ts, dict(row.payload or {}))
        for row in session.scalars(query.order_by(EventRow.id))
    ]


def list_workers(session: Session, live_only: bool = False) -> list[WorkerRecord]:
    query = select(Worker).order_by(Worker.started_at)
    if live_only:
        query = query.where(Worker.stopped_at.is_(None))
    return [
        WorkerRecord(
            w.id,
            w.host,
            w.pid,
            w.concurrency,
            utc(w.started_at) or w.started_at,
            utc(w.heartbeat_at) or w.heartbeat_at,
            utc(w.stopped_at),
        )
        for w in session.scalars(query)
    ]
