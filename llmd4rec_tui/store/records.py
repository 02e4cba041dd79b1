"""Frozen records the store hands to the CLI and TUI, never ORM rows.

One record type per concept serves both front ends, so a field added to a run reaches
`runs ls --json` and the Runs screen alike. A record is a snapshot: it cannot lazy-load,
go stale mid-render or hold a session open, which is what lets the TUI poll from a thread
while the worker writes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Row

from engine.protocol import Params, Weights
from llmd4rec_tui.store.models import Histogram, Metric, Run, RunSummary, UserRanks, Worker

ACTIVE_STATUSES = ("queued", "held", "running")
FINAL_STATUSES = ("succeeded", "failed", "cancelled", "lost")
STATUSES = ACTIVE_STATUSES + FINAL_STATUSES


def now_utc() -> datetime:
    return datetime.now(UTC)


#: Field metadata of what the screens draw but the `--json` listings never carried: left
#: out of `to_jsonable` so the JSON that scripts read keeps the keys it always had.
SCREEN_ONLY = {"json": False}


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: datetime | None) -> datetime | None: ...
def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the store always writes UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RunRecord:
    """One line of a run listing: identity, queue state, progress and headline metrics."""

    id: int
    name: str
    status: str
    priority: int
    attempts: int
    max_attempts: int
    config_hash: str
    dataset: str
    seed: int
    tags: tuple[str, ...]
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker_id: str | None
    exit_code: int | None
    failure_kind: str | None
    error: str | None
    cancel_requested: bool
    round: int | None
    phase: str | None
    progress: float | None
    crm_ndcg10: float | None
    llm_ndcg10: float | None
    events: int
    bad_lines: int
    epoch: int | None = field(metadata=SCREEN_ONLY)
    loss_trail: tuple[float, ...] = field(metadata=SCREEN_ONLY)  # recent total losses, for sparklines
    pace: dict[str, Any] = field(default_factory=dict, metadata=SCREEN_ONLY)  # reports.progress facts
    lease_expires_at: datetime | None = field(default=None, metadata=SCREEN_ONLY)

    def lease_expired_s(self, now: datetime) -> float | None:
        """How long ago a running run's lease ran out (its worker stopped renewing it), else None."""
        if self.status != "running" or self.lease_expires_at is None or self.lease_expires_at >= now:
            return None
        return (now - self.lease_expires_at).total_seconds()

    def elapsed_s(self, now: datetime) -> float | None:
        """Wall time of the current or last attempt at `now` (None before it started).

        Negative when another machine's clock runs ahead: callers decide how to show that.
        """
        if self.started_at is None:
            return None
        end = self.finished_at if self.status != "running" and self.finished_at else now
        return (end - self.started_at).total_seconds()

    @property
    def seconds(self) -> float | None:
        """Wall time of the last attempt so far, as the `--json` listings report it."""
        return self.elapsed_s(now_utc())

    @classmethod
    def from_row(cls, row: Row[Any]) -> RunRecord:
        """From a row of RUN_COLUMNS; the summary's columns are None when it has none yet."""
        return cls(
            id=row.id,
            name=row.name,
            status=row.status,
            priority=row.priority,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            config_hash=row.config_hash,
            dataset=row.dataset,
            seed=row.seed,
            tags=tuple(str(tag) for tag in row.tags or ()),
            enqueued_at=utc(row.enqueued_at),
            started_at=utc(row.started_at),
            finished_at=utc(row.finished_at),
            worker_id=row.worker_id,
            exit_code=row.exit_code,
            failure_kind=row.failure_kind,
            error=row.error,
            cancel_requested=bool(row.cancel_requested),
            round=row.round,
            phase=row.phase,
            progress=row.progress,
            crm_ndcg10=row.crm_ndcg10,
            llm_ndcg10=row.llm_ndcg10,
            events=row.events or 0,
            bad_lines=row.bad_lines or 0,
            epoch=row.epoch,
            loss_trail=tuple(float(v) for v in row.loss_trail or () if isinstance(v, int | float)),
            pace=dict(row.pace or {}),
            lease_expires_at=utc(row.lease_expires_at),
        )


#: What a RunRecord reads, named as its fields: a listing of many runs never loads their
#: config texts, tracebacks or environments, which is most of what a run row weighs.
RUN_COLUMNS = (
    Run.id,
    Run.name,
    Run.status,
    Run.priority,
    Run.attempts,
    Run.max_attempts,
    Run.config_hash,
    Run.dataset,
    Run.seed,
    Run.tags,
    Run.enqueued_at,
    Run.started_at,
    Run.finished_at,
    Run.worker_id,
    Run.exit_code,
    Run.failure_kind,
    Run.error,
    Run.cancel_requested,
    RunSummary.round,
    RunSummary.phase,
    RunSummary.progress,
    RunSummary.crm_ndcg10,
    RunSummary.llm_ndcg10,
    RunSummary.events,
    RunSummary.bad_lines,
    RunSummary.epoch,
    RunSummary.loss_trail,
    RunSummary.pace,
    Run.lease_expires_at,
)


@dataclass(frozen=True)
class MetricRecord:
    round: int
    phase: str
    model: str
    split: str
    key: str
    epoch: int | None
    step: int | None
    value: float

    @classmethod
    def from_row(cls, row: Metric) -> MetricRecord:
        return cls(row.round, row.phase, row.model, row.split, row.key, row.epoch, row.step, row.value)


@dataclass(frozen=True)
class HistogramRecord:
    """One distribution: w1/w2 of an epoch (kind 'weights') or a tensor at the end of a
    phase ('params'); read from the histograms table (figures) or folded from its event
    (the Run screen), the same record either way."""

    run_id: int
    kind: str
    round: int
    model: str  # the model the phase trained (the table's `phase` column)
    epoch: int | None
    name: str
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    mean: float = 0.0
    std: float = 0.0

    @classmethod
    def from_row(cls, row: Histogram) -> HistogramRecord:
        edges = tuple(float(e) for e in row.edges or ())
        counts = tuple(int(c) for c in row.counts or ())
        return cls(row.run_id, row.kind, row.round, row.phase, row.epoch, row.name, edges, counts, row.mean, row.std)

    @classmethod
    def of_event(cls, run_id: int, event: Weights | Params) -> HistogramRecord:
        kind, epoch = ("weights", event.epoch) if isinstance(event, Weights) else ("params", None)
        edges, counts = tuple(event.edges), tuple(event.counts)
        return cls(run_id, kind, event.round, event.model, epoch, event.name, edges, counts, event.mean, event.std)


@dataclass(frozen=True)
class RanksRecord:
    """Per-user ranks of one final evaluation (a phase's test or best validation)."""

    run_id: int
    round: int
    model: str
    split: str
    users: tuple[str, ...]
    items: tuple[str, ...]
    ranks: tuple[int, ...]

    @classmethod
    def from_row(cls, row: UserRanks) -> RanksRecord:
        users, items, ranks = (tuple(v or ()) for v in (row.users, row.items, row.ranks))
        return cls(row.run_id, row.round, row.model, row.split, users, items, tuple(int(r) for r in ranks))

    def by_user(self) -> dict[str, int]:
        return dict(zip(self.users, self.ranks, strict=True))


@dataclass(frozen=True)
class EventRecord:
    id: int
    attempt: int
    type: str
    ts: float
    payload: dict[str, Any]


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt of a run as its events tell it: when it started and ended, and how."""

    attempt: int
    started_at: datetime | None
    ended_at: datetime | None
    ended: str  # succeeded, failed (kind), cancelled, lost, or the run's status while it is the current one
    message: str = ""


@dataclass(frozen=True)
class RunDetail:
    """One run in full, for `runs show` and the Run screen: the listing line plus config,
    failure, reproducibility record and metrics."""

    run: RunRecord
    source_path: str
    config_toml: str
    config: dict[str, Any]
    notes: str
    run_dir: str
    pid: int | None
    heartbeat_at: datetime | None
    lease_expires_at: datetime | None
    traceback: str | None
    stderr_tail: str | None
    last_checkpoint: str | None
    git_commit: str | None
    git_dirty: bool | None
    environment: dict[str, Any]
    protocol: dict[str, Any]
    metrics: dict[str, Any]  # model -> split -> metric -> value (latest)
    last_losses: dict[str, Any]
    evals: tuple[MetricRecord, ...] = field(default=())  # every eval metric, per round and phase
    history: tuple[AttemptRecord, ...] = field(default=())  # every attempt, oldest first


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


#: run id -> (round, model) -> (best epoch, epochs run)
PhaseEpochs = dict[int, dict[tuple[int, str], tuple[int, int]]]


@dataclass(frozen=True)
class RunPage:
    """One page of a run listing with the total that matched, for the Runs screen's pager."""

    rows: tuple[RunRecord, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class WorkerRecord:
    """A worker process and how many runs it holds right now."""

    id: str
    host: str
    pid: int
    concurrency: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    running: int
    cluster_job: str | None = None  # the Slurm job or Ray actor it runs in (cluster submit)

    def heartbeat_age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.heartbeat_at).total_seconds())

    @classmethod
    def from_row(cls, worker: Worker, running: int) -> WorkerRecord:
        return cls(
            id=worker.id,
            host=worker.host,
            pid=worker.pid,
            concurrency=worker.concurrency,
            started_at=utc(worker.started_at),
            heartbeat_at=utc(worker.heartbeat_at),
            stopped_at=utc(worker.stopped_at),
            running=running,
            cluster_job=worker.cluster_job,
        )


def to_jsonable(value: Any) -> Any:
    """Records (and what they hold) as plain JSON types; datetimes as ISO 8601 UTC."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = (f for f in dataclasses.fields(value) if f.metadata.get("json", True))
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in fields}
        if isinstance(value, RunRecord):
            out["seconds"] = value.seconds
        return out
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value
