"""Listing and showing runs, their events and the workers: the one read model of the
CLI and the TUI.

The caller frames the session; these functions only read, so the TUI never holds a write
transaction open while the worker writes. Listings page straight from the runs and
summary tables (raw metrics only for one run's detail), so they stay fast with many runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from llmd4rec_tui.store.attempts import attempt_history
from llmd4rec_tui.store.models import EventRow, Histogram, Metric, Run, RunSummary, UserRanks, Worker
from llmd4rec_tui.store.records import (
    RUN_COLUMNS,
    EventRecord,
    HistogramRecord,
    MetricRecord,
    RanksRecord,
    RunDetail,
    RunPage,
    RunRecord,
    WorkerRecord,
    utc,
)
from llmd4rec_tui.store.run_filter import RunFilter, RunSort

#: Claim order: what a worker takes next comes first.
CLAIM_ORDER = (Run.priority, Run.enqueued_at, Run.id)


def _run_records() -> Select[Any]:
    """Runs joined to their summaries (a run just queued has none yet), as RunRecord rows."""
    return select(*RUN_COLUMNS).outerjoin(RunSummary, RunSummary.run_id == Run.id)


def list_runs(
    session: Session,
    where: RunFilter = RunFilter(),
    sort: RunSort = RunSort(),
    offset: int = 0,
    limit: int | None = None,
) -> list[RunRecord]:
    """Runs with their summaries, filtered and sorted in SQL (newest first), a page at a time."""
    query = _run_records().where(*where.clauses()).order_by(*sort.order_by()).offset(offset).limit(limit)
    return [RunRecord.from_row(row) for row in session.execute(query)]


def run_page(
    session: Session, where: RunFilter = RunFilter(), sort: RunSort = RunSort(), offset: int = 0, limit: int = 100
) -> RunPage:
    """One page of runs with the total that matched: the Runs screen's pager needs both."""
    count = select(func.count(Run.id)).select_from(Run).outerjoin(RunSummary).where(*where.clauses())
    total = session.scalar(count)
    return RunPage(tuple(list_runs(session, where, sort, offset, limit)), int(total or 0), offset)


def queue_order(session: Session, include_held: bool = True) -> list[RunRecord]:
    """Running runs first, then the waiting ones in the order workers will claim them."""
    statuses = ["running", "queued"] + (["held"] if include_held else [])
    running_first = case((Run.status == "running", 0), else_=1)
    query = _run_records().where(Run.status.in_(statuses)).order_by(running_first, *CLAIM_ORDER)
    return [RunRecord.from_row(row) for row in session.execute(query)]


def queue_positions(session: Session) -> dict[int, int]:
    """run id -> place in claim order (1 = taken next) of every queued or held run: a held
    run keeps its place and is skipped until released."""
    query = select(Run.id).where(Run.status.in_(("queued", "held"))).order_by(*CLAIM_ORDER)
    return {run_id: place for place, run_id in enumerate(session.scalars(query), start=1)}


def runs_by_config_hash(session: Session, hashes: Iterable[str], statuses: Iterable[str]) -> dict[str, int]:
    """The newest run of each config hash among runs in these statuses: what a duplicate is."""
    query = select(Run.config_hash, Run.id).where(Run.config_hash.in_(list(hashes)), Run.status.in_(list(statuses)))
    return dict(session.execute(query.order_by(Run.id)).all())


def resolved_config(config_json: str) -> dict[str, Any]:
    """The stored resolved config; an unreadable one shows as empty rather than hiding the run."""
    try:
        config = json.loads(config_json) if config_json else {}
    except json.JSONDecodeError:
        return {}
    return config if isinstance(config, dict) else {}


def get_run(session: Session, run_id: int) -> RunDetail | None:
    query = _run_records().add_columns(Run, RunSummary.metrics, RunSummary.last_losses).where(Run.id == run_id)
    row = session.execute(query).one_or_none()
    if row is None:
        return None
    run: Run = row.Run
    evals = session.scalars(
        select(Metric)
        .where(Metric.run_id == run_id, Metric.split.in_(("valid", "test")), Metric.model != "")
        .order_by(Metric.round, Metric.id)
    )
    return RunDetail(
        run=RunRecord.from_row(row),
        source_path=run.source_path,
        config_toml=run.config_toml,
        config=resolved_config(run.config_json),
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
        metrics=dict(row.metrics or {}),
        last_losses=dict(row.last_losses or {}),
        evals=tuple(MetricRecord.from_row(row) for row in evals),
        history=attempt_history(session, run),
    )


def run_metrics(session: Session, run_id: int, split: str | None = None) -> list[MetricRecord]:
    query = select(Metric).where(Metric.run_id == run_id)
    if split is not None:
        query = query.where(Metric.split == split)
    return [MetricRecord.from_row(row) for row in session.scalars(query.order_by(Metric.id))]


def run_histograms(session: Session, run_ids: Sequence[int], kind: str = "weights") -> list[HistogramRecord]:
    """The stored distributions of these runs, in the order they were written."""
    query = select(Histogram).where(Histogram.run_id.in_(list(run_ids)), Histogram.kind == kind)
    return [HistogramRecord.from_row(row) for row in session.scalars(query.order_by(Histogram.id))]


def run_ranks(
    session: Session, run_ids: Sequence[int], split: str = "test", model: str | None = None, round_: int | None = None
) -> list[RanksRecord]:
    """Stored per-user ranks of these runs on ``split``: of round ``round_``, or by default
    each run's and model's last round (what the run's final metrics were computed from)."""
    query = select(UserRanks).where(UserRanks.run_id.in_(list(run_ids)), UserRanks.split == split)
    if model is not None:
        query = query.where(UserRanks.model == model)
    if round_ is not None:
        query = query.where(UserRanks.round == round_)
    rows = [RanksRecord.from_row(row) for row in session.scalars(query.order_by(UserRanks.run_id, UserRanks.round))]
    if round_ is not None:
        return rows
    last: dict[tuple[int, str], RanksRecord] = {}
    for record in rows:  # ascending rounds: the last one written per (run, model) wins
        last[(record.run_id, record.model)] = record
    return list(last.values())


def final_test_ranks(session: Session, run_ids: Sequence[int]) -> dict[int, dict[str, dict[str, int]]]:
    """run id -> model -> user -> rank at each run's final test evaluation (results' tests)."""
    out: dict[int, dict[str, dict[str, int]]] = {}
    for record in run_ranks(session, run_ids, "test"):
        out.setdefault(record.run_id, {})[record.model] = record.by_user()
    return out


def run_events(
    session: Session, run_id: int, types: Sequence[str] = (), after_id: int = 0, limit: int | None = None
) -> list[EventRecord]:
    """The run's events newer than after_id, oldest first: the Run screen polls with this."""
    query = select(EventRow).where(EventRow.run_id == run_id, EventRow.id > after_id)
    if types:
        query = query.where(EventRow.type.in_(types))
    return [
        EventRecord(row.id, row.attempt, row.type, row.ts, dict(row.payload or {}))
        for row in session.scalars(query.order_by(EventRow.id).limit(limit))
    ]


def list_workers(session: Session, live_only: bool = False) -> list[WorkerRecord]:
    """Workers in the order they started, with how many runs each holds."""
    per_worker = select(Run.worker_id, func.count(Run.id)).where(Run.status == "running").group_by(Run.worker_id)
    running = {worker_id: int(count) for worker_id, count in session.execute(per_worker)}
    query = select(Worker).order_by(Worker.started_at)
    if live_only:
        query = query.where(Worker.stopped_at.is_(None))
    return [WorkerRecord.from_row(worker, running.get(worker.id, 0)) for worker in session.scalars(query)]
