"""What a figure reads from the store, in one frozen record: the runs, their per-round
metrics on one split, their weight histograms and (of one run) the step losses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from llmd4rec_tui.store.queries import run_histograms, run_metrics
from llmd4rec_tui.store.records import HistogramRecord, MetricRecord
from llmd4rec_tui.store.rounds import round_metrics
from llmd4rec_tui.store.views import CompareInput


@dataclass(frozen=True)
class FigureSource:
    runs: tuple[CompareInput, ...]
    split: str  # test or valid: which evaluation the metrics come from
    per_round: dict[int, Any] = field(default_factory=dict)  # run id -> round -> model -> metric -> value
    histograms: tuple[HistogramRecord, ...] = ()  # kind 'weights', every run
    losses: dict[int, tuple[MetricRecord, ...]] = field(default_factory=dict)  # run id -> its step losses


def figure_source(
    session: Session, runs: Sequence[CompareInput], split: str, metrics: Sequence[str], kind: str
) -> FigureSource:
    """Only what ``kind`` draws is read: the histograms for weights, the step losses for losses."""
    ids = [run.id for run in runs]
    per_round = round_metrics(session, ids, metrics, split) if kind in ("rounds", "ablations", "sweep") else {}
    histograms = tuple(run_histograms(session, ids)) if kind == "weights" else ()
    losses = {i: tuple(run_metrics(session, i, "train")) for i in ids} if kind == "losses" else {}
    return FigureSource(tuple(runs), split, per_round, histograms, losses)
