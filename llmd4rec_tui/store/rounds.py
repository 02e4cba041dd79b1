"""Per-round metrics of runs (the results table's round curve, the figures) and each
phase's best epoch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from llmd4rec_tui.store.models import Metric
from llmd4rec_tui.store.records import PhaseEpochs


def round_metrics(session: Session, run_ids: Sequence[int], keys: Sequence[str], split: str = "test") -> dict[int, Any]:
    """run id -> round -> model -> metric -> value, from the ``split`` evaluation after each
    phase (the latest value wins when an attempt was resumed and re-evaluated)."""
    stmt = (
        select(Metric.run_id, Metric.round, Metric.model, Metric.key, Metric.value)
        .where(Metric.run_id.in_(list(run_ids)), Metric.split == split, Metric.key.in_(list(keys)))
        .order_by(Metric.id)
    )
    out: dict[int, Any] = {}
    for run_id, round_, model, key, value in session.execute(stmt):
        out.setdefault(run_id, {}).setdefault(round_, {}).setdefault(model, {})[key] = value
    return out


def phase_epochs(session: Session, run_ids: Sequence[int], key: str = "ndcg@10") -> PhaseEpochs:
    """Each phase's best epoch (the first with the highest validation ``key``, as the
    trainer keeps it) and how many epochs it ran: shows whether an epoch cap was binding."""
    stmt = (
        select(Metric.run_id, Metric.round, Metric.model, Metric.epoch, Metric.value)
        .where(Metric.run_id.in_(list(run_ids)), Metric.split == "valid_epoch", Metric.key == key)
        .order_by(Metric.id)
    )
    values: dict[int, dict[tuple[int, str], dict[int, float]]] = {}
    for run_id, round_, model, epoch, value in session.execute(stmt):
        if epoch is not None:  # a resumed epoch's later value replaces the earlier one
            values.setdefault(run_id, {}).setdefault((round_, model), {})[epoch] = value
    out: PhaseEpochs = {}
    for run_id, phases in values.items():
        for phase, by_epoch in phases.items():
            best = max(by_epoch.values())
            first_best = min(e for e, v in by_epoch.items() if v == best)
            out.setdefault(run_id, {})[phase] = (first_best, max(by_epoch))
    return out
