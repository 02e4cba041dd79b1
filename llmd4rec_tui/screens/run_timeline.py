"""A run's event stream folded into what the Run screen's panels draw.

The Run screen polls only the events newer than the last one it saw and adds them here,
so a long run costs one small query a second, not a re-read of its history. A retried
run starts a new attempt: its events replace the curves of the attempt before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llmd4rec_tui.store.records import EventRecord

LOSS_KEYS = ("ce", "kl", "wkl", "total")


@dataclass(frozen=True)
class LossPoint:
    round: int
    epoch: int
    step: int
    losses: dict[str, float]


@dataclass(frozen=True)
class EvalPoint:
    round: int
    phase: str
    model: str
    split: str
    metrics: dict[str, float]


@dataclass(frozen=True)
class HistogramPoint:
    """One distribution: w1/w2 of an epoch, or a parameter tensor at the end of a phase."""

    round: int
    phase: str
    epoch: int | None
    name: str
    edges: tuple[float, ...]
    counts: tuple[int, ...]
    mean: float
    std: float


@dataclass
class RunTimeline:
    """Accumulates events; ``add`` returns the names of the panels that changed."""

    last_event_id: int = 0
    attempt: int = 0
    losses: dict[str, list[LossPoint]] = field(default_factory=dict)  # phase -> points
    evals: list[EvalPoint] = field(default_factory=list)
    weights: list[HistogramPoint] = field(default_factory=list)
    params: list[HistogramPoint] = field(default_factory=list)
    log: list[EventRecord] = field(default_factory=list)
    failure: dict[str, Any] | None = None

    def add(self, events: Sequence[EventRecord]) -> set[str]:
        changed: set[str] = set()
        for event in events:
            self.last_event_id = max(self.last_event_id, event.id)
            if event.attempt != self.attempt:
                if self.attempt:  # a retry: what the last attempt drew goes
                    changed |= {"losses", "evals", "weights", "params"}
                self._new_attempt(event.attempt)
            self.log.append(event)
            changed.add("log")
            changed |= self._fold(event.type, event.payload)
        return changed

    def _new_attempt(self, attempt: int) -> None:
        """A resumed attempt replays from its checkpoint; keep only what it reports."""
        self.attempt = attempt
        self.losses.clear()
        self.evals.clear()
        self.weights.clear()
        self.params.clear()
        self.failure = None

    def _fold(self, kind: str, p: dict[str, Any]) -> set[str]:
        if kind == "step" and isinstance(p.get("losses"), dict):
            losses = _floats(p["losses"])
            point = LossPoint(int(p.get("round", 0)), int(p.get("epoch", 0)), int(p.get("step", 0)), losses)
            self.losses.setdefault(str(p.get("phase", "")), []).append(point)
            return {"losses"}
        if kind == "eval":
            self.evals.append(
                EvalPoint(
                    int(p.get("round", 0)),
                    str(p.get("phase", "")),
                    str(p.get("model", "")),
                    str(p.get("split", "")),
                    _floats(p.get("metrics", {})),
                )
            )
            return {"evals"}
        if kind in ("weights", "params"):
            target = self.weights if kind == "weights" else self.params
            target.append(_histogram(p))
            return {kind}
        if kind == "run_failed":
            self.failure = dict(p)
            return {"failure"}
        return set()

    # ---- views the panels ask for ----------------------------------------------------

    def weight_rounds(self) -> list[int]:
        return sorted({h.round for h in self.weights})

    def weights_in_round(self, round_: int) -> list[HistogramPoint]:
        return [h for h in self.weights if h.round == round_]

    def param_names(self) -> list[tuple[str, str]]:
        """(phase, tensor name) pairs in the order they first appeared."""
        seen: dict[tuple[str, str], None] = {}
        for h in self.params:
            seen.setdefault((h.phase, h.name), None)
        return list(seen)

    def param_history(self, phase: str, name: str) -> list[HistogramPoint]:
        return [h for h in self.params if h.phase == phase and h.name == name]

    def eval_table(self, split: str = "valid") -> list[EvalPoint]:
        return [e for e in self.evals if e.split == split]


def _floats(values: Any) -> dict[str, float]:
    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _histogram(p: dict[str, Any]) -> HistogramPoint:
    epoch = p.get("epoch")
    return HistogramPoint(
        round=int(p.get("round", 0)),
        phase=str(p.get("phase", "")),
        epoch=int(epoch) if isinstance(epoch, int) else None,
        name=str(p.get("name", "")),
        edges=tuple(float(e) for e in p.get("edges", [])),
        counts=tuple(int(c) for c in p.get("counts", [])),
        mean=float(p.get("mean", 0.0)),
        std=float(p.get("std", 0.0)),
    )
