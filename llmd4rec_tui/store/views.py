"""Read-only queries behind the TUI screens and `runs compare`, returning frozen records.

Every function takes a Session framed by the caller and only reads, so the TUI never holds
a write transaction open while the worker writes events. Lists come in pages (offset,
limit) straight from the run and summary tables: raw metrics are never scanned here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, func, inspect, or_, select
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.config import flatten
from llmd4rec_tui.store.db import Store, StoreError, display_url
from llmd4rec_tui.store.models import EventRow, Run, RunSummary, Worker
from llmd4rec_tui.store.records import utc
from llmd4rec_tui.store.schema import current_revisions, head_revisions, known_revisions

STATUSES = ("queued", "held", "running", "succeeded", "failed", "cancelled", "lost")
FILTER_KEYS = ("status", "tag", "dataset")


class FilterError(ValueError):
    """A filter query the Runs screen cannot apply; the message names the bad token."""


@dataclass(frozen=True)
class RunFilter:
    """What the Runs screen shows: `status:running,failed tag:x dataset:ml-1m free text`."""

    statuses: tuple[str, ...] = ()
    tag: str | None = None
    dataset: str | None = None
    text: str = ""

    @classmethod
    def parse(cls, query: str) -> RunFilter:
        statuses: tuple[str, ...] = ()
        tag: str | None = None
        dataset: str | None = None
        words: list[str] = []
        for token in query.split():
            key, sep, value = token.partition(":")
            if not sep:
                words.append(token)
                continue
            if key not in FILTER_KEYS:
                raise FilterError(f"filter {token!r}: unknown key {key!r}, expected one of {', '.join(FILTER_KEYS)}")
            if not value:
                raise FilterError(f"filter {token!r}: {key} needs a value, e.g. {key}:x")
            if key == "status":
                statuses = tuple(value.split(","))
                unknown = [s for s in statuses if s not in STATUSES]
                if unknown:
                    expected = ", ".join(STATUSES)
                    raise FilterError(f"filter {token!r}: unknown status {unknown[0]!r}, expected {expected}")
            elif key == "tag":
                tag = value
            else:
                dataset = value
        return cls(statuses, tag, dataset, " ".join(words))

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.statuses:
            out.append(Run.status.in_(self.statuses))
        if self.tag:
            out.append(cast(Run.tags, String).like(f'%"{self.tag}"%'))
        if self.dataset:
            out.append(Run.dataset == self.dataset)
        if self.text:
            pattern = f"%{self.text}%"
            out.append(or_(Run.name.ilike(pattern), Run.notes.ilike(pattern), Run.source_path.ilike(pattern)))
        return out


#: Sortable Runs columns -> what they sort by. Ties fall back to the run id.
SORT_COLUMNS: dict[str, Any] = {
    "id": Run.id,
    "name": Run.name,
    "status": Run.status,
    "attempt": Run.attempts,
    "priority": Run.priority,
    "dataset": Run.dataset,
    "progress": RunSummary.progress,
    "started": Run.started_at,
    "crm": RunSummary.crm_ndcg10,
    "llm": RunSummary.llm_ndcg10,
}


@dataclass(frozen=True)
class RunSort:
    column: str = "id"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.column not in SORT_COLUMNS:
            raise ValueError(f"sort column {self.column!r}: expected one of {', '.join(SORT_COLUMNS)}")


@dataclass(frozen=True)
class RunRow:
    """One line of the Runs table."""

    id: int
    name: str
    status: str
    attempts: int
    max_attempts: int
    priority: int
    dataset: str
    tags: tuple[str, ...]
    round: int | None
    phase: str | None
    epoch: int | None
    progress: float | None
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    crm_ndcg10: float | None
    llm_ndcg10: float | None
    loss_trail: tuple[float, ...]
    failure_kind: str | None
    cancel_requested: bool

    def elapsed_s(self, now: datetime) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at if self.status != "running" and self.finished_at else now
        return max(0.0, (end - self.started_at).total_seconds())


@dataclass(frozen=True)
class RunPage:
    rows: tuple[RunRow, ...]
    total: int
    offset: int


def _run_row(run: Run, summary: RunSummary | None) -> RunRow:
    trail = tuple(float(v) for v in (summary.loss_trail if summary else []) if isinstance(v, int | float))
    return RunRow(
        id=run.id,
        name=run.name,
        status=run.status,
        attempts=run.attempts,
        max_attempts=run.max_attempts,
        priority=run.priority,
        dataset=run.dataset,
        tags=tuple(str(t) for t in run.tags or []),
        round=summary.round if summary else None,
        phase=summary.phase if summary else None,
        epoch=summary.epoch if summary else None,
        progress=summary.progress if summary else None,
        enqueued_at=utc(run.enqueued_at),
        started_at=utc(run.started_at),
        finished_at=utc(run.finished_at),
        heartbeat_at=utc(run.heartbeat_at),
        crm_ndcg10=summary.crm_ndcg10 if summary else None,
        llm_ndcg10=summary.llm_ndcg10 if summary else None,
        loss_trail=trail,
        failure_kind=run.failure_kind,
        cancel_requested=bool(run.cancel_requested),
    )


def list_runs(
    session: Session, where: RunFilter = RunFilter(), sort: RunSort = RunSort(), offset: int = 0, limit: int = 100
) -> RunPage:
    """One page of runs, filtered and sorted in SQL, with the total that matched."""
    clauses = where.clauses()
    total = session.scalar(select(func.count(Run.id)).select_from(Run).outerjoin(RunSummary).where(*clauses))
    order = SORT_COLUMNS[sort.column]
    ordering = [order.desc() if sort.descending else order.asc()]
    if sort.column != "id":
        ordering.append(Run.id.desc() if sort.descending else Run.id.asc())
    stmt = select(Run, RunSummary).outerjoin(RunSummary).where(*clauses).order_by(*ordering).offset(offset).limit(limit)
    rows = tuple(_run_row(run, summary) for run, summary in session.execute(stmt))
    return RunPage(rows, int(total or 0), offset)


@dataclass(frozen=True)
class WorkerRow:
    id: str
    host: str
    pid: int
    concurrency: int
    started_at: datetime
    heartbeat_at: datetime
    running: int

    def heartbeat_age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.heartbeat_at).total_seconds())


def live_workers(session: Session) -> tuple[WorkerRow, ...]:
    """Workers that have not said they stopped, with how many runs each holds."""
    per_worker = select(Run.worker_id, func.count(Run.id)).where(Run.status == "running").group_by(Run.worker_id)
    running = {worker_id: count for worker_id, count in session.execute(per_worker)}
    workers = session.scalars(select(Worker).where(Worker.stopped_at.is_(None)).order_by(Worker.started_at))
    return tuple(
        WorkerRow(
            id=w.id,
            host=w.host,
            pid=w.pid,
            concurrency=w.concurrency,
            started_at=utc(w.started_at) or datetime.now(UTC),
            heartbeat_at=utc(w.heartbeat_at) or datetime.now(UTC),
            running=int(running.get(w.id, 0)),
        )
        for w in workers
    )


@dataclass(frozen=True)
class RunInfo:
    """Everything the Run screen shows that is not an event stream."""

    row: RunRow
    source_path: str
    config_toml: str
    config: dict[str, Any]
    config_hash: str
    seed: int
    notes: str
    worker_id: str | None
    pid: int | None
    run_dir: str
    exit_code: int | None
    error: str | None
    traceback: str | None
    stderr_tail: str | None
    git_commit: str | None
    git_dirty: bool | None
    environment: dict[str, Any]
    protocol: dict[str, Any]
    metrics: dict[str, Any]
    last_losses: dict[str, Any]


def run_info(session: Session, run_id: int) -> RunInfo | None:
    run = session.get(Run, run_id)
    if run is None:
        return None
    summary = run.summary
    try:
        config = json.loads(run.config_json) if run.config_json else {}
    except json.JSONDecodeError:
        config = {}
    return RunInfo(
        row=_run_row(run, summary),
        source_path=run.source_path,
        config_toml=run.config_toml,
        config=config if isinstance(config, dict) else {},
        config_hash=run.config_hash,
        seed=run.seed,
        notes=run.notes,
        worker_id=run.worker_id,
        pid=run.pid,
        run_dir=run.run_dir,
        exit_code=run.exit_code,
        error=run.error,
        traceback=run.traceback,
        stderr_tail=run.stderr_tail,
        git_commit=run.git_commit,
        git_dirty=run.git_dirty,
        environment=dict(run.environment or {}),
        protocol=dict(run.protocol or {}),
        metrics=dict(summary.metrics or {}) if summary else {},
        last_losses=dict(summary.last_losses or {}) if summary else {},
    )


@dataclass(frozen=True)
class EventView:
    id: int
    attempt: int
    type: str
    ts: float
    payload: dict[str, Any]


def events_after(session: Session, run_id: int, after_id: int = 0, limit: int = 5000) -> tuple[EventView, ...]:
    """The run's events newer than after_id, oldest first: the Run screen polls with this."""
    stmt = select(EventRow).where(EventRow.run_id == run_id, EventRow.id > after_id).order_by(EventRow.id).limit(limit)
    return tuple(EventView(e.id, e.attempt, e.type, e.ts, dict(e.payload or {})) for e in session.scalars(stmt))


@dataclass(frozen=True)
class CompareInput:
    """One run as the comparison needs it: flat config, protocol and final test metrics."""

    id: int
    name: str
    status: str
    seed: int
    config: dict[str, Any]
    protocol: dict[str, Any]
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


def _test_metrics(summary: RunSummary | None) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for model, splits in ((summary.metrics or {}) if summary else {}).items():
        test = splits.get("test") if isinstance(splits, dict) else None
        if isinstance(test, dict):
            out[str(model)] = {str(k): float(v) for k, v in test.items() if isinstance(v, int | float)}
    return out


def compare_inputs(session: Session, run_ids: list[int]) -> tuple[CompareInput, ...]:
    """The runs in the order asked; raises KeyError naming ids that do not exist."""
    found = {run.id: run for run in session.scalars(select(Run).where(Run.id.in_(run_ids)))}
    missing = [i for i in run_ids if i not in found]
    if missing:
        raise KeyError(f"no run with id {', '.join(str(i) for i in missing)}")
    out = []
    for run_id in run_ids:
        run = found[run_id]
        try:
            config = flatten(json.loads(run.config_json)) if run.config_json else {}
        except json.JSONDecodeError:
            config = {}
        out.append(
            CompareInput(
                id=run.id,
                name=run.name,
                status=run.status,
                seed=run.seed,
                config=config,
                protocol=dict(run.protocol or {}),
                metrics=_test_metrics(run.summary),
            )
        )
    return tuple(out)


def run_ids_with_tag(session: Session, tag: str) -> list[int]:
    stmt = select(Run.id).where(*RunFilter(tag=tag).clauses()).order_by(Run.id)
    return list(session.scalars(stmt))


def open_for_reading(url: str) -> Store:
    """Open an existing llmd4rec database without creating or upgrading anything.

    Raises StoreError with a message a person can act on: the file is missing, it is not
    a database, it is not an llmd4rec database, or its schema is newer than this code.
    """
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:") and not path.exists():
            raise StoreError(f"no database at {path}: add runs with `llmd4rec queue add CONFIG.toml` or pass --db PATH")
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revisions = current_revisions(connection) if "alembic_version" in tables else frozenset()
            connection.rollback()
    except (OperationalError, DatabaseError) as exc:
        store.close()
        reason = str(exc.orig).strip() if exc.orig is not None else str(exc)
        raise StoreError(f"cannot open the database {display_url(url)}: {reason}") from exc
    missing = {"runs", "run_summaries", "events", "workers"} - tables
    if missing:
        store.close()
        raise StoreError(f"{display_url(url)} is not an llmd4rec database (no {', '.join(sorted(missing))} tables)")
    unknown = revisions - known_revisions()
    if unknown:
        store.close()
        raise StoreError(
            f"{display_url(url)}: schema revision {', '.join(sorted(unknown))} is newer than this llmd4rec "
            f"knows (newest: {', '.join(sorted(head_revisions()))}); upgrade llmd4rec to read it"
        )
    return store


def now_utc() -> datetime:
    return datetime.now(UTC)
