"""Folding recorded events into what the Run screen's panels draw."""

from __future__ import annotations

import json

import pytest

from llmd4rec_tui.reports.timeline import RunTimeline
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.queries import run_events, run_histograms
from llmd4rec_tui.store.records import EventRecord
from llmd4rec_tui.widgets.text_charts import histogram_strip, sparkline
from tests.tui.dbfill import EVENTS


def recorded(name: str, attempt: int = 1, first_id: int = 1) -> list[EventRecord]:
    out = []
    for i, line in enumerate((EVENTS / name).read_text().splitlines()):
        raw = json.loads(line)
        kind, ts = raw.pop("type"), raw.pop("ts")
        raw.pop("v")
        out.append(EventRecord(first_id + i, attempt, kind, ts, raw))
    return out


def test_a_finished_run_folds_into_curves_metrics_and_histograms() -> None:
    timeline = RunTimeline()
    changed = timeline.add(recorded("finished.jsonl"))
    assert changed >= {"losses", "evals", "weights", "params", "log"}
    assert [len(timeline.curve(p).losses) for p in ("crm", "llm")] == [18, 18]
    assert len(timeline.evals) == 8 and {e.model for e in timeline.evals} == {"crm", "llm"}
    assert timeline.weight_rounds() == [0, 1]
    assert [h.epoch for h in timeline.weights_in_round(1)] == [1, 2, 3, 1, 2, 3]  # w2 in the CRM phase, then w1
    assert ("llm", "w_in") in timeline.param_names()
    assert [h.round for h in timeline.param_history("crm", "item_embedding")] == [0, 1]
    assert timeline.failure is None and timeline.last_event_id == 87


def test_events_added_in_pieces_give_the_same_result() -> None:
    events = recorded("finished.jsonl")
    whole, pieces = RunTimeline(), RunTimeline()
    whole.add(events)
    for start in range(0, len(events), 10):
        pieces.add(events[start : start + 10])
    assert pieces.phases == whole.phases and pieces.weights == whole.weights and pieces.evals == whole.evals


def test_a_failed_run_keeps_its_failure() -> None:
    timeline = RunTimeline()
    assert "failure" in timeline.add(recorded("failed.jsonl"))
    assert timeline.failure is not None and timeline.failure.kind == "exception"
    assert "FloatingPointError" in timeline.failure.traceback


def test_a_new_attempt_replaces_the_curves_of_the_last() -> None:
    timeline = RunTimeline()
    timeline.add(recorded("failed.jsonl"))
    timeline.add(recorded("running.jsonl", attempt=2, first_id=100)[:5])
    assert timeline.attempt == 2 and timeline.failure is None
    assert sum(len(curve.losses) for curve in timeline.phases.values()) == 3
    assert len(timeline.log) == 57  # the log keeps both attempts


def test_sparkline_scales_to_its_own_range_and_keeps_order() -> None:
    assert sparkline([3.0, 2.0, 1.0]) == "█▅▁"
    assert sparkline([5.0, 5.0]) == "▄▄"
    assert sparkline([]) == ""
    assert len(sparkline(list(range(100)), width=10)) == 10


@pytest.mark.parametrize(
    ("counts", "width", "peak", "expected"),
    [
        ([0, 4, 8], None, None, " ▄█"),
        ([0, 4, 8], 6, None, "  ▄▄██"),
        ([2, 4], None, 8, "▂▄"),
        ([0, 0], None, None, "  "),
    ],
)
def test_histogram_strip(counts: list[int], width: int | None, peak: float | None, expected: str) -> None:
    assert histogram_strip(counts, width, peak) == expected


def test_a_bad_line_is_logged_and_changes_no_panel() -> None:
    from llmd4rec_tui.widgets.event_log import describe

    timeline = RunTimeline()
    bad = EventRecord(1, 1, "bad_line", 0.0, {"line": "this is not json", "reason": "not JSON (Expecting value)"})
    assert timeline.add([bad]) == {"log"}
    assert describe(bad) == "not JSON (Expecting value): this is not json"


def test_a_phase_with_a_cached_teacher_says_what_its_logits_cost() -> None:
    from llmd4rec_tui.widgets.event_log import describe

    cache = {"samples": 97171, "bytes": 654155172, "where": "disk", "seconds": 506.2}
    started = EventRecord(1, 1, "phase_started", 0.0, {"round": 1, "phase": "crm", "teacher": "llm", "epochs": 60,
                                                       "teacher_cache": cache})  # fmt: skip
    assert describe(started) == (
        "r1 crm starts (teacher: llm, 60 epochs); teacher logits: 97,171 samples, 654 MB on disk, 506 s"
    )
    live = EventRecord(1, 2, "phase_started", 0.0, {"round": 1, "phase": "llm", "teacher": "crm", "epochs": 2,
                                                    "teacher_cache": {"where": "live"}})  # fmt: skip
    assert describe(live) == "r1 llm starts (teacher: crm, 2 epochs)"


def test_histograms_folded_from_the_events_are_the_records_the_figures_read(
    store: Store, run_ids: dict[str, int]
) -> None:
    """One record type: the Run screen folds events into what `runs plot weights` reads from its table."""
    run_id = run_ids["base0"]
    timeline = RunTimeline(run_id)
    with store.session() as session:
        timeline.add(run_events(session, run_id))
        stored = {kind: run_histograms(session, [run_id], kind) for kind in ("weights", "params")}
    assert timeline.weights == stored["weights"] and len(timeline.weights) == 9
    assert timeline.params == stored["params"] and {h.model for h in timeline.params} == {"crm", "llm"}
