"""Batched event ingestion that keeps metrics, histograms and the run summary current.

The worker feeds every decoded line of an engine's stdout to a ``RunIngestor``; it
buffers rows and writes them in one short transaction per batch (by count or age), so a
chatty engine costs a few commits a second instead of one per event. The summary row is
rewritten in the same transaction, so listings never scan raw metrics and never see a
summary that disagrees with the rows it summarises.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from engine.protocol import (
    BadLine,
    Checkpoint,
    EpochEnd,
    Eval,
    Event,
    Params,
    PhaseStarted,
    Ranks,
    RoundEnd,
    RunFinished,
    RunStarted,
    Step,
    Weights,
)
from llmd4rec_tui.reports.progress import ProgressTracker
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Base, EventRow, Histogram, Metric, Run, RunSummary, UserRanks

#: Rare events that mark progress a crash must not lose: they are written at once.
FLUSH_AT_ONCE = frozenset(
    {"run_started", "phase_started", "checkpoint", "round_end", "run_finished", "run_failed", "run_cancelled"}
)
LOSS_TRAIL = 200  # recent loss totals kept for sparklines
BAD_LINE_CHARS = 2_000
HEADLINE = "ndcg@10"


class RunIngestor:
    """Buffers one run attempt's events and writes them in batches."""

    def __init__(
        self,
        store: Store,
        run_id: int,
        attempt: int,
        batch_size: int = 500,
        max_delay_s: float = 0.5,
        on_flush: Callable[[], None] | None = None,
        owner: str | None = None,
    ) -> None:
        self.store, self.run_id, self.attempt = store, run_id, attempt
        self.owner = owner  # the worker id the run must still belong to for a batch to be written
        self.owned = True  # False once a flush found the run taken away
        self.batch_size, self.max_delay_s = batch_size, max_delay_s
        self._on_flush = on_flush
        self._events: list[dict[str, Any]] = []
        self._metrics: list[dict[str, Any]] = []
        self._histograms: list[dict[str, Any]] = []
        self._ranks: list[dict[str, Any]] = []
        self._run_updates: dict[str, Any] = {}
        self._oldest: float | None = None
        self.summary = self._load_summary()
        self.progress = ProgressTracker()  # this attempt's pace; the summary keeps its facts

    def _load_summary(self) -> dict[str, Any]:
        with self.store.session() as session:
            row = session.get(RunSummary, self.run_id)
            if row is None:
                return {"events": 0, "bad_lines": 0, "metrics": {}, "last_losses": {}, "loss_trail": [], "pace": {}}
            return {
                "round": row.round,
                "phase": row.phase,
                "epoch": row.epoch,
                "progress": row.progress,
                "last_losses": dict(row.last_losses or {}),
                "loss_trail": list(row.loss_trail or []),
                "pace": dict(row.pace or {}),
                "metrics": {m: {s: dict(v) for s, v in splits.items()} for m, splits in (row.metrics or {}).items()},
                "crm_ndcg10": row.crm_ndcg10,
                "llm_ndcg10": row.llm_ndcg10,
                "events": row.events,
                "bad_lines": row.bad_lines,
            }

    @property
    def pending(self) -> int:
        return len(self._events)

    def add(self, item: Event | BadLine) -> None:
        """Record one decoded line; flushes when the batch is full or old enough."""
        if isinstance(item, BadLine):
            payload = {"line": item.line[:BAD_LINE_CHARS], "reason": item.reason}
            self._event("bad_line", time.time(), payload)
            self.summary["bad_lines"] += 1
        else:
            self._event(item.type, item.ts, json_safe(_payload(item)))
            self._apply(item)
            if self.progress.add(item):
                self.summary["pace"] = json_safe(self.progress.facts())
        self.summary["events"] += 1
        urgent = not isinstance(item, BadLine) and item.type in FLUSH_AT_ONCE
        if urgent or self.pending >= self.batch_size or self.due:
            self.flush()

    def note(self, type_: str, payload: dict[str, Any]) -> None:
        """An event the worker itself records on the run (lost lease, stop request...)."""
        self._event(type_, time.time(), json_safe(payload))

    @property
    def due(self) -> bool:
        return self._oldest is not None and time.monotonic() - self._oldest >= self.max_delay_s

    def _event(self, type_: str, ts: float, payload: dict[str, Any]) -> None:
        if self._oldest is None:
            self._oldest = time.monotonic()
        row = {"run_id": self.run_id, "attempt": self.attempt, "type": type_, "ts": ts, "payload": payload}
        self._events.append(row)

    def _metric(self, event: Event, model: str, split: str, values: dict[str, float], **at: Any) -> None:
        """Rows of one model's values; the ``phase`` column names the model its phase trains,
        which every event of protocol 2 calls ``model`` (and an eval follows its own phase)."""
        for key, value in values.items():
            if not math.isfinite(value):
                continue
            row = {"run_id": self.run_id, "round": at.get("round", 0), "phase": model, "model": model, "split": split}
            row.update(key=key, epoch=at.get("epoch"), step=at.get("step"), value=float(value), ts=event.ts)
            self._metrics.append(row)

    def _histogram(self, kind: str, event: Weights | Params, epoch: int | None) -> None:
        if not all(math.isfinite(v) for v in (event.mean, event.std, *event.edges)):
            return  # a diverged distribution: its event keeps it, as text
        self._histograms.append(
            {
                "run_id": self.run_id,
                "kind": kind,
                "round": event.round,
                "phase": event.model,
                "epoch": epoch,
                "name": event.name,
                "edges": list(event.edges),
                "counts": list(event.counts),
                "mean": event.mean,
                "std": event.std,
            }
        )

    def _apply(self, event: Event) -> None:
        """Fold one event into the rows to insert and the summary (one branch per type)."""
        s = self.summary
        if isinstance(event, RunStarted):
            self._run_updates["protocol"] = dict(event.protocol)
            self._run_updates["engine"] = {
                "device": event.device,
                "engine_versions": dict(event.versions),
                "params": dict(event.params),
                "dataset": dict(event.dataset),
                "dataset_fingerprint": event.dataset.get("fingerprint"),
                "resumed": event.resumed,
            }
        elif isinstance(event, PhaseStarted):
            s.update(round=event.round, phase=event.model, epoch=0, progress=0.0)
        elif isinstance(event, Step):
            s.update(round=event.round, phase=event.model, epoch=event.epoch, progress=event.progress)
            s["last_losses"] = json_safe(dict(event.losses))
            self._trail(event.losses)
            at = {"round": event.round, "epoch": event.epoch, "step": event.step}
            self._metric(event, event.model, "train", event.losses, **at)
        elif isinstance(event, EpochEnd):
            s.update(round=event.round, phase=event.model, epoch=event.epoch, progress=1.0)
            at = {"round": event.round, "epoch": event.epoch}
            self._metric(event, event.model, "epoch", event.losses, **at)
            self._metric(event, event.model, "valid_epoch", event.valid, **at)
        elif isinstance(event, Eval):
            self._metric(event, event.model, event.split, event.metrics, round=event.round)
            s["metrics"].setdefault(event.model, {})[event.split] = json_safe(dict(event.metrics))
            if event.split == "test":
                self._headline(event.model, event.metrics)
        elif isinstance(event, Ranks):
            where = {"run_id": self.run_id, "round": event.round, "model": event.model, "split": event.split}
            self._ranks.append({**where, "users": event.users, "items": event.items, "ranks": event.ranks})
        elif isinstance(event, Weights):
            self._histogram("weights", event, event.epoch)
        elif isinstance(event, Params):
            self._histogram("params", event, None)
        elif isinstance(event, Checkpoint):
            self._run_updates["last_checkpoint"] = event.path
        elif isinstance(event, RoundEnd):
            s["round"] = event.round
            for model, metrics in event.metrics.items():
                s["metrics"].setdefault(model, {})["test"] = json_safe(dict(metrics))
                self._headline(model, metrics)
        elif isinstance(event, RunFinished):
            s["progress"] = 1.0
            for model, metrics in event.metrics.items():
                s["metrics"].setdefault(model, {})["test"] = json_safe(dict(metrics))
                self._headline(model, metrics)

    def _trail(self, losses: dict[str, float]) -> None:
        total = losses.get("total", next(iter(losses.values()), None))
        if total is None or not math.isfinite(total):
            return
        trail = self.summary["loss_trail"]
        trail.append(float(total))
        del trail[:-LOSS_TRAIL]

    def _headline(self, model: str, metrics: dict[str, float]) -> None:
        if model in ("crm", "llm") and HEADLINE in metrics and math.isfinite(metrics[HEADLINE]):
            self.summary[f"{model}_ndcg10"] = float(metrics[HEADLINE])

    def flush(self) -> None:
        """Write everything buffered in one transaction (a no-op when nothing is)."""
        if not self._events and not self._run_updates:
            return
        summary = {k: v for k, v in self.summary.items()}
        summary["updated_at"] = datetime.now(UTC)
        with self.store.write() as session:
            if not self._still_owned(session):
                self._drop()
                return
            connection = session.connection()  # Core executemany: no ORM bookkeeping per row
            for model, rows in ((EventRow, self._events), (Metric, self._metrics), (Histogram, self._histograms)):
                if rows:
                    connection.execute(insert(Base.metadata.tables[model.__tablename__]), rows)
            for row in self._ranks:  # a newer attempt's ranks replace the older ones
                keys = ("run_id", "round", "model", "split")
                session.execute(delete(UserRanks).filter_by(**{k: row[k] for k in keys}))
                session.execute(insert(UserRanks), [row])
            session.execute(update(RunSummary).where(RunSummary.run_id == self.run_id).values(**summary))
            self._write_run_updates(session)
        self._drop()
        if self._on_flush is not None:
            self._on_flush()

    def _still_owned(self, session: Any) -> bool:
        """With an owner: the run is still running on it (row locked on PostgreSQL until commit)."""
        if self.owner is None:
            return True
        query = select(Run.id).where(Run.id == self.run_id, Run.worker_id == self.owner, Run.status == "running")
        self.owned = session.scalar(query.with_for_update()) is not None
        return self.owned

    def _drop(self) -> None:
        self._events, self._metrics, self._histograms, self._ranks, self._run_updates = [], [], [], [], {}
        self._oldest = None

    def _write_run_updates(self, session: Any) -> None:
        if not self._run_updates:
            return
        updates = dict(self._run_updates)
        engine_facts = updates.pop("engine", None)
        if engine_facts is not None:
            run = session.get(Run, self.run_id)
            if run is not None:
                run.environment = {**(run.environment or {}), **engine_facts}
        if updates:
            session.execute(update(Run).where(Run.id == self.run_id).values(**updates))


def _payload(event: Event) -> dict[str, Any]:
    """The event's fields without ts; shallow, as decoded values are plain JSON already.
    A ranks event keeps only its size here: its lists live in user_ranks."""
    body = {f.name: getattr(event, f.name) for f in fields(event) if f.name != "ts"}
    if isinstance(event, Ranks):
        body = {k: v for k, v in body.items() if k not in ("users", "items", "ranks")} | {"users": len(event.users)}
    return body


def json_safe(value: Any) -> Any:
    """The value with non-finite floats as the text "nan", "inf" or "-inf" (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
