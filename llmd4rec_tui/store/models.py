"""The database schema: typed SQLAlchemy 2.0 models, all in this one module.

Schema changes go through Alembic migrations (store/migrations). The CLI and TUI never
see these ORM rows: the store hands out frozen records (store/records.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(Text, default="")
    config_toml: Mapped[str] = mapped_column(Text, default="")  # the file as written
    config_json: Mapped[str] = mapped_column(Text)  # resolved, all defaults filled
    config_hash: Mapped[str] = mapped_column(String(32), index=True)
    dataset: Mapped[str] = mapped_column(String(100), default="")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[str] = mapped_column(Text, default="")

    # queue
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # lower runs first
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    preemptions: Mapped[int] = mapped_column(Integer, default=0)  # back in the queue because its worker was preempted

    # the current or last attempt
    worker_id: Mapped[str | None] = mapped_column(String(100), default=None)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    run_dir: Mapped[str] = mapped_column(Text, default="")
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)
    failure_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    traceback: Mapped[str | None] = mapped_column(Text, default=None)
    stderr_tail: Mapped[str | None] = mapped_column(Text, default=None)
    last_checkpoint: Mapped[str | None] = mapped_column(Text, default=None)  # path from the engine's checkpoint event

    # reproducibility, captured when the run starts
    git_commit: Mapped[str | None] = mapped_column(String(64), default=None)
    git_dirty: Mapped[bool | None] = mapped_column(Boolean, default=None)
    environment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    protocol: Mapped[dict[str, Any]] = mapped_column(default=dict)

    summary: Mapped[RunSummary | None] = relationship(back_populates="run", cascade="all, delete-orphan", uselist=False)

    __table_args__ = (Index("ix_runs_claim", "status", "priority", "enqueued_at", "id"),)


class RunSummary(Base):
    """One row per run, kept current at write time so lists never scan raw metrics."""

    __tablename__ = "run_summaries"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    round: Mapped[int | None] = mapped_column(Integer, default=None)
    phase: Mapped[str | None] = mapped_column(String(16), default=None)
    epoch: Mapped[int | None] = mapped_column(Integer, default=None)
    progress: Mapped[float | None] = mapped_column(Float, default=None)
    last_losses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    loss_trail: Mapped[list[Any]] = mapped_column(default=list)  # recent totals, for sparklines
    pace: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reports.progress facts: epochs, samples/s, ETA
    # model -> split -> metric -> value: the latest test and best validation metrics
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    crm_ndcg10: Mapped[float | None] = mapped_column(Float, default=None)  # final test, for sorting
    llm_ndcg10: Mapped[float | None] = mapped_column(Float, default=None)
    events: Mapped[int] = mapped_column(Integer, default=0)
    bad_lines: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    run: Mapped[Run] = relationship(back_populates="summary")


class EventRow(Base):
    """Every event an engine sent (and every line it could not parse, type 'bad_line')."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    type: Mapped[str] = mapped_column(String(32))
    ts: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_events_run", "run_id", "id"),)


class Metric(Base):
    """Scalar series: losses per step/epoch and evaluation metrics per round and phase."""

    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer, default=0)
    phase: Mapped[str] = mapped_column(String(16), default="")
    model: Mapped[str] = mapped_column(String(16), default="")
    split: Mapped[str] = mapped_column(String(16), default="")  # train, valid, test
    key: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[int | None] = mapped_column(Integer, default=None)
    step: Mapped[int | None] = mapped_column(Integer, default=None)
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_metrics_run", "run_id", "split", "key"),)


class Histogram(Base):
    """A distribution over fixed bins: sample weights (kind 'weights') or a tensor ('params')."""

    __tablename__ = "histograms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=0)
    phase: Mapped[str] = mapped_column(String(16), default="")
    epoch: Mapped[int | None] = mapped_column(Integer, default=None)
    name: Mapped[str] = mapped_column(String(100))
    edges: Mapped[list[Any]] = mapped_column(default=list)
    counts: Mapped[list[Any]] = mapped_column(default=list)
    mean: Mapped[float] = mapped_column(Float, default=0.0)
    std: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (Index("ix_histograms_run", "run_id", "kind"),)


class UserRanks(Base):
    """The true item's rank for every evaluated user after one phase (the engine's ranks
    event): one row per run, round, model and split, a newer attempt's row replacing an
    older one. Lists in user order; users and items are the dataset's original ids."""

    __tablename__ = "user_ranks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[str] = mapped_column(String(16))
    split: Mapped[str] = mapped_column(String(16))
    users: Mapped[list[Any]] = mapped_column(default=list)
    items: Mapped[list[Any]] = mapped_column(default=list)
    ranks: Mapped[list[Any]] = mapped_column(default=list)

    __table_args__ = (Index("ix_user_ranks_run", "run_id", "model", "split", "round"),)


class StoreMeta(Base):
    """Facts about the database itself, one row a key: its ``database_id`` (a uuid) names
    its run directories, so two databases in one folder never share ``runs/<id>``."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Worker(Base):
    """A live or departed worker process, with its heartbeat."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    cluster_job: Mapped[str | None] = mapped_column(String(64), default=None, index=True)  # ClusterJob.job_id


class ClusterJob(Base):
    """One worker placed on a cluster (a Slurm array task, a Ray actor) by `cluster submit`.

    The scheduler's state is never stored: `cluster status` asks the scheduler each time and
    shows it beside the heartbeat of the worker that registered with this ``job_id``.
    """

    __tablename__ = "cluster_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    backend: Mapped[str] = mapped_column(String(16))  # slurm or ray
    job_id: Mapped[str] = mapped_column(String(64), unique=True)  # "<array>_<task>" on Slurm
    array_id: Mapped[str] = mapped_column(String(64), index=True)  # what scancel takes for the whole set
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what was asked for: gpus, time, partition...
