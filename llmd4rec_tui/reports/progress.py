"""Where a run is and how long it has left: phase, round, epoch, samples/s and an ETA.

Pure functions over decoded protocol events (``engine.protocol``) and the facts the store
keeps of them; no Textual, no SQLAlchemy. One ``ProgressTracker`` per run attempt folds
its events as they arrive (the worker's ingestor keeps one and stores its ``facts()`` in
the run summary; the worker's terminal display and the Run screen keep their own), and
``progress_at(facts, now)`` turns stored facts into what a screen shows.

The ETA is measured, never guessed from a config: the wall time of the phase's finished
epochs (or, in its first epoch, the time so far over the fraction done) times the epochs
left to the phase's epoch cap. Early stopping can end a phase sooner, so it is an upper
bound for the phase; it counts down between events (``now`` minus the last event's time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.protocol import EpochEnd, Event, PhaseStarted, RoundEnd, RunFinished, Step

#: Keys of the stored facts (a JSON object in the run summary).
FACT_KEYS = ("round", "phase", "epoch", "epochs", "fraction", "samples_per_s", "epoch_s", "remaining_s", "at")


@dataclass(frozen=True)
class Progress:
    """A run's position and pace at one moment; None where the events have not said yet."""

    round: int | None = None
    phase: str | None = None
    epoch: int | None = None  # epochs finished before the running one (the engine counts from 1)
    epochs: int | None = None  # the phase's epoch cap
    fraction: float | None = None  # of the current epoch
    samples_per_s: float | None = None
    epoch_s: float | None = None  # measured wall seconds per epoch in this phase
    eta_s: float | None = None  # to the end of the phase at its epoch cap

    @property
    def done_epochs(self) -> float | None:
        """Epochs of the phase done, fractions included (2.5 = half way through the third)."""
        if self.epoch is None:
            return None
        return self.epoch + (self.fraction or 0.0)

    def position(self) -> str:
        """``r1 llm e2/3 45%``: round, phase, epoch (1-based, of the cap) and epoch fraction."""
        if self.round is None or self.phase is None:
            return "-"
        text = f"r{self.round} {self.phase}"
        if self.epoch is not None:
            shown = min(self.epoch + 1, self.epochs) if self.epochs else self.epoch + 1
            text += f" e{shown}" + (f"/{self.epochs}" if self.epochs else "")
        if self.fraction is not None and 0.0 < self.fraction < 1.0:
            text += f" {self.fraction:.0%}"
        return text


def remaining_s(epochs: int | None, done_epochs: float, epoch_s: float | None) -> float | None:
    """Seconds to the phase's epoch cap at a measured pace; None without a pace or a cap."""
    if not epochs or epoch_s is None or epoch_s <= 0:
        return None
    return max(0.0, (epochs - done_epochs) * epoch_s)


def epoch_pace(finished_s: list[float], epoch_elapsed_s: float, fraction_done: float) -> float | None:
    """Seconds per epoch: the mean of the finished epochs, else the running one extrapolated
    from the fraction of it done in ``epoch_elapsed_s``."""
    if finished_s:
        return sum(finished_s) / len(finished_s)
    if fraction_done > 0.0 and epoch_elapsed_s > 0.0:
        return epoch_elapsed_s / fraction_done
    return None


class ProgressTracker:
    """Folds one attempt's events into its progress. ``add`` takes any event; the ones
    that say nothing of progress are ignored, so a caller can feed it everything."""

    def __init__(self) -> None:
        self.round: int | None = None
        self.phase: str | None = None
        self.epoch: int | None = None
        self.epochs: int | None = None
        self.fraction: float | None = None
        self.samples_per_s: float | None = None
        self.finished = False
        self._epoch_started: float | None = None  # ts the current epoch began (phase start or last epoch end)
        self._start_fraction = 0.0  # of the epoch at _epoch_started (above 0 when a resume joined mid-epoch)
        self._epoch_times: list[float] = []  # wall seconds of this phase's finished epochs
        self._last_ts: float | None = None

    def add(self, event: Event) -> bool:
        """Fold one event; True when the progress changed."""
        if isinstance(event, PhaseStarted):
            self.round, self.phase, self.epochs = event.round, event.model, event.epochs or None
            self.epoch, self.fraction, self.samples_per_s = 0, 0.0, None
            self._epoch_started, self._epoch_times, self._start_fraction = event.ts, [], 0.0
        elif isinstance(event, Step):
            fraction = min(1.0, max(0.0, event.progress))
            self._enter(event.round, event.model, max(0, event.epoch - 1), event.ts, fraction)
            self.fraction = fraction
            if event.samples_per_s > 0:
                self.samples_per_s = event.samples_per_s
        elif isinstance(event, EpochEnd):
            self._enter(event.round, event.model, max(0, event.epoch - 1), event.ts, 1.0)
            if self._epoch_started is not None and event.ts > self._epoch_started and not self._start_fraction:
                self._epoch_times.append(event.ts - self._epoch_started)
            elif event.seconds > 0:
                self._epoch_times.append(event.seconds)
            self.epoch, self.fraction, self._epoch_started, self._start_fraction = event.epoch, 0.0, event.ts, 0.0
        elif isinstance(event, RoundEnd):
            self.round = event.round
        elif isinstance(event, RunFinished):
            self.finished, self.fraction = True, None
        else:
            return False
        self._last_ts = event.ts
        return True

    def _enter(self, round_: int, phase: str, epoch: int, ts: float, fraction: float) -> None:
        """Where a step or an epoch end is; one of a phase or epoch whose start this tracker
        did not see (a resumed attempt) starts the measurement there."""
        if (round_, phase) != (self.round, self.phase):
            self.round, self.phase, self.epochs = round_, phase, None
            self._epoch_times, self._epoch_started = [], None
        if epoch != self.epoch or self._epoch_started is None:
            self.epoch = epoch
            self._epoch_started, self._start_fraction = ts, fraction

    def _pace(self) -> float | None:
        elapsed = 0.0
        if self._epoch_started is not None and self._last_ts is not None:
            elapsed = self._last_ts - self._epoch_started
        return epoch_pace(self._epoch_times, elapsed, (self.fraction or 0.0) - self._start_fraction)

    def facts(self) -> dict[str, Any]:
        """What to store: plain JSON, read back by ``progress_at``."""
        epoch_s = self._pace()
        done = (self.epoch or 0) + (self.fraction or 0.0)
        left = None if self.finished else remaining_s(self.epochs, done, epoch_s)
        return {
            "round": self.round,
            "phase": self.phase,
            "epoch": self.epoch,
            "epochs": self.epochs,
            "fraction": self.fraction,
            "samples_per_s": self.samples_per_s,
            "epoch_s": epoch_s,
            "remaining_s": left,
            "at": self._last_ts,
        }

    def progress(self, now: float | None = None) -> Progress:
        return progress_at(self.facts(), now)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def progress_at(facts: dict[str, Any] | None, now: float | None = None) -> Progress:
    """Stored facts as a Progress at ``now`` (epoch seconds): the ETA less the time since
    the last event, never below zero. Unreadable or missing facts give an empty Progress."""
    if not facts:
        return Progress()
    left, at = _num(facts.get("remaining_s")), _num(facts.get("at"))
    if left is not None and now is not None and at is not None:
        left = max(0.0, left - max(0.0, now - at))
    phase = facts.get("phase")
    return Progress(
        round=_int(facts.get("round")),
        phase=phase if isinstance(phase, str) else None,
        epoch=_int(facts.get("epoch")),
        epochs=_int(facts.get("epochs")),
        fraction=_num(facts.get("fraction")),
        samples_per_s=_num(facts.get("samples_per_s")),
        epoch_s=_num(facts.get("epoch_s")),
        eta_s=left,
    )


def track(events: list[Event]) -> ProgressTracker:
    """A tracker fed these events in order (tests, and a screen opening a run mid-way)."""
    tracker = ProgressTracker()
    for event in events:
        tracker.add(event)
    return tracker
