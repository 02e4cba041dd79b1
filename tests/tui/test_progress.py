"""Progress and ETA from measured throughput (llmd4rec_tui.reports.progress)."""

from __future__ import annotations

from engine.protocol import EpochEnd, Event, PhaseStarted, RunFinished, Step, decode
from llmd4rec_tui.reports.progress import Progress, ProgressTracker, progress_at, track
from tests.tui.dbfill import EVENTS


def recorded(name: str) -> list[Event]:
    out = []
    for line in (EVENTS / name).read_text().splitlines():
        event = decode(line)
        assert isinstance(event, Event)
        out.append(event)
    return out


def test_the_eta_is_the_epochs_left_at_the_measured_pace() -> None:
    tracker = ProgressTracker()
    tracker.add(PhaseStarted(round=1, model="llm", epochs=4, ts=100.0))
    tracker.add(Step(round=1, model="llm", epoch=1, step=1, losses={}, samples_per_s=50.0, progress=0.25, ts=110.0))
    first = tracker.progress()
    assert first.epoch_s == 40.0 and first.eta_s == 150.0  # 10 s for a quarter; 3.75 epochs left
    assert first.samples_per_s == 50.0 and first.position() == "r1 llm e1/4 25%"
    tracker.add(EpochEnd(round=1, model="llm", epoch=1, losses={}, ts=130.0))
    tracker.add(Step(round=1, model="llm", epoch=2, step=2, losses={}, progress=0.5, ts=145.0))
    second = tracker.progress()
    assert second.epoch_s == 30.0 and second.eta_s == 75.0  # the finished epoch's 30 s; 2.5 left
    assert second.samples_per_s == 50.0  # a step without a rate keeps the last one
    assert tracker.progress(now=155.0).eta_s == 65.0  # counts down between events
    assert tracker.progress(now=1e9).eta_s == 0.0


def test_stored_facts_read_back_the_same() -> None:
    tracker = track(recorded("running.jsonl"))
    facts = tracker.facts()
    assert progress_at(facts, now=facts["at"]) == tracker.progress(now=facts["at"])
    shown = progress_at(facts)
    assert shown.phase == "crm" and shown.round == 1 and shown.samples_per_s and shown.eta_s is not None


def test_a_finished_run_has_no_eta_and_junk_facts_give_nothing() -> None:
    tracker = track(recorded("finished.jsonl"))
    assert tracker.progress().eta_s is None
    tracker.add(RunFinished(metrics={}))
    assert progress_at({}) == Progress() and progress_at({"round": "x", "eta_s": []}) == Progress()


def test_a_resumed_attempt_without_its_phase_start_still_measures() -> None:
    tracker = ProgressTracker()
    tracker.add(Step(round=2, model="crm", epoch=4, step=9, losses={}, progress=0.5, ts=10.0))
    tracker.add(Step(round=2, model="crm", epoch=4, step=10, losses={}, progress=0.75, ts=15.0))
    shown = tracker.progress()
    assert shown.position() == "r2 crm e4 75%" and shown.epoch_s == 20.0 and shown.eta_s is None  # no cap known
