"""A run's stored events folded into what the Run screen's panels draw: the read model.

Each stored event is decoded with the protocol's own types (``engine.protocol``), so a
field renamed or retyped there is one change, not a ``payload.get`` hunt. The Run screen
reads only the events newer than the last one it saw and adds them here, so a long run
costs one small query a second. A retried run's new attempt replaces the curves of the
attempt before; the log keeps both. No Textual, no SQLAlchemy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.protocol import (
    EVENT_TYPES,
    BadLine,
    EpochEnd,
    Eval,
    Event,
    Params,
    RunFailed,
    Step,
    Weights,
    decode_fields,
)
from llmd4rec_tui.store.records import EventRecord, HistogramRecord

LOSS_KEYS = ("ce", "kl", "wkl", "total")
#: The distillation terms: near zero beside a CE of 5-7, so they get an axis of their own.
KD_KEYS = ("kl", "wkl")
#: What the stored JSON holds for the floats JSON cannot (store.ingest.json_safe).
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _finite_back(value: Any) -> Any:
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    if isinstance(value, dict):
        return {k: _finite_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_back(v) for v in value]
    return value


def decode_event(record: EventRecord) -> Event | None:
    """The protocol event a stored row holds; None for the worker's own notes (retried,
    lost, bad_line) and for a row that no longer decodes."""
    if record.type not in EVENT_TYPES:
        return None
    event = decode_fields(record.type, {**record.payload, "ts": record.ts})
    if isinstance(event, BadLine):  # a diverged loss was stored as the text "nan"
        event = decode_fields(record.type, {**_finite_back(record.payload), "ts": record.ts})
    return None if isinstance(event, BadLine) else event


@dataclass(frozen=True)
class LossPoint:
    round: int
    epoch: int
    step: int  # as the engine counts it: from 1 in every phase of every round
    x: int  # the phase's step over all its rounds: what the loss plots draw on
    losses: dict[str, float]


@dataclass(frozen=True)
class ValidPoint:
    """The validation metrics after one epoch of one phase."""

    round: int
    model: str
    epoch: int
    x: int  # the phase's epoch over all its rounds, from 1
    metrics: dict[str, float]


@dataclass(frozen=True)
class EvalPoint:
    round: int
    model: str
    split: str
    metrics: dict[str, float]


@dataclass
class PhaseCurve:
    """One phase's losses and per-epoch validation over all its rounds, on one x axis."""

    losses: list[LossPoint] = field(default_factory=list)
    valid: list[ValidPoint] = field(default_factory=list)
    round_starts: list[tuple[int, int]] = field(default_factory=list)  # (x of its first step, round)

    def add_step(self, event: Step) -> None:
        last = self.losses[-1] if self.losses else None
        if last is None or event.round != last.round:  # the round's first step follows the last one drawn
            offset = (last.x if last is not None else 0) - (event.step - 1)
            self.round_starts.append((offset + event.step, event.round))
        else:
            offset = last.x - last.step
        losses = {k: float(v) for k, v in event.losses.items()}
        self.losses.append(LossPoint(event.round, event.epoch, event.step, offset + event.step, losses))

    def add_epoch(self, event: EpochEnd) -> None:
        if event.valid:
            point = ValidPoint(event.round, event.model, event.epoch, len(self.valid) + 1, dict(event.valid))
            self.valid.append(point)


@dataclass
class RunTimeline:
    """Accumulates events; ``add`` returns the names of the panels that changed."""

    run_id: int = 0  # what the histogram records carry
    last_event_id: int = 0
    attempt: int = 0
    phases: dict[str, PhaseCurve] = field(default_factory=dict)
    evals: list[EvalPoint] = field(default_factory=list)
    weights: list[HistogramRecord] = field(default_factory=list)
    params: list[HistogramRecord] = field(default_factory=list)
    log: list[EventRecord] = field(default_factory=list)
    failure: RunFailed | None = None

    def add(self, events: Sequence[EventRecord]) -> set[str]:
        changed: set[str] = set()
        for record in events:
            self.last_event_id = max(self.last_event_id, record.id)
            if record.attempt != self.attempt:
                if self.attempt:  # a retry: what the last attempt drew goes
                    changed |= {"losses", "evals", "weights", "params", "failure"}
                self._new_attempt(record.attempt)
            self.log.append(record)
            changed.add("log")
            event = decode_event(record)
            if event is not None:
                changed |= self._fold(event)
        return changed

    def _new_attempt(self, attempt: int) -> None:
        """A resumed attempt replays from its checkpoint; keep only what it reports."""
        self.attempt = attempt
        self.phases.clear()
        self.evals.clear()
        self.weights.clear()
        self.params.clear()
        self.failure = None

    def _fold(self, event: Event) -> set[str]:
        changed: set[str] = set()
        if isinstance(event, Step):
            self.curve(event.model).add_step(event)
            changed.add("losses")
        elif isinstance(event, EpochEnd):
            self.curve(event.model).add_epoch(event)
            changed.add("losses")
        elif isinstance(event, Eval):
            self.evals.append(EvalPoint(event.round, event.model, event.split, dict(event.metrics)))
            changed.add("evals")
        elif isinstance(event, Weights):
            self.weights.append(HistogramRecord.of_event(self.run_id, event))
            changed.add("weights")
        elif isinstance(event, Params):
            self.params.append(HistogramRecord.of_event(self.run_id, event))
            changed.add("params")
        elif isinstance(event, RunFailed):
            self.failure = event
            changed.add("failure")
        return changed

    # ---- views the panels ask for ----------------------------------------------------

    def curve(self, model: str) -> PhaseCurve:
        """The curve of the phases that train ``model``."""
        return self.phases.setdefault(model, PhaseCurve())

    def weight_rounds(self) -> list[int]:
        return sorted({h.round for h in self.weights})

    def weights_in_round(self, round_: int) -> list[HistogramRecord]:
        return [h for h in self.weights if h.round == round_]

    def param_names(self) -> list[tuple[str, str]]:
        """(model, tensor name) pairs in the order they first appeared."""
        seen: dict[tuple[str, str], None] = {}
        for h in self.params:
            seen.setdefault((h.model, h.name), None)
        return list(seen)

    def param_history(self, model: str, name: str) -> list[HistogramRecord]:
        return [h for h in self.params if h.model == model and h.name == name]
