"""Per-round test metrics of runs, for the results table's round curve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from llmd4rec_tui.store.models import Metric


def round_metrics(session: Session, run_ids: Sequence[int], keys: Sequence[str]) -> dict[int, Any]:
    """run id -> round -> model -> metric -> value, from the test evaluation after each phase
    (the latest value wins when an attempt was resumed and re-evaluated)."""
    stmt = (
        select(Metric.run_id, Metric.round, Metric.model, Metric.key, Metric.value)
        .where(Metric.run_id.in_(list(run_ids)), Metric.split == "test", Metric.key.in_(list(keys)))
        .order_by(Metric.id)
    )
    out: dict[int, Any] = {}
    for run_id, round_, model, key, value in session.execute(stmt):
        out.setdefault(run_id, {}).setdefault(round_, {}).setdefault(model, {})[key] = value
    return out
