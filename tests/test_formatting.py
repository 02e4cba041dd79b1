"""The shared cell formats: the CLI and the TUI write statuses, times and numbers alike."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from llmd4rec_tui.formatting import (
    STATUS_STYLES,
    format_age,
    format_duration,
    format_metric,
    format_moment,
    format_progress,
    format_rate,
    seconds_between,
    status_label,
)
from llmd4rec_tui.store.records import STATUSES, RunRecord

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def record(**changes: object) -> RunRecord:
    run = RunRecord(
        id=1, name="r", status="running", priority=0, attempts=1, max_attempts=3, config_hash="h", dataset="d",
        seed=0, tags=(), enqueued_at=NOW, started_at=NOW, finished_at=None, worker_id=None, exit_code=None,
        failure_kind=None, error=None, cancel_requested=False, round=1, phase="crm", progress=0.5,
        crm_ndcg10=None, llm_ndcg10=None, events=0, bad_lines=0, epoch=2, loss_trail=(),
    )  # fmt: skip
    return dataclasses.replace(run, **changes)  # type: ignore[arg-type]


def test_every_status_has_its_own_style_and_running_is_not_succeeded() -> None:
    assert set(STATUS_STYLES) == set(STATUSES)
    assert len(set(STATUS_STYLES.values())) == len(STATUSES)
    assert "green" not in STATUS_STYLES["running"]


@pytest.mark.parametrize(
    ("changes", "long", "compact"),
    [
        ({}, "running", "running"),
        ({"cancel_requested": True}, "cancelling", "running*"),
        ({"status": "failed", "failure_kind": "exception"}, "failed (exception)", "failed"),
        ({"status": "failed", "failure_kind": "oom"}, "failed (oom)", "failed·oom"),
        ({"status": "cancelled", "failure_kind": "cancelled"}, "cancelled", "cancelled"),
        ({"status": "queued", "failure_kind": "lost"}, "queued", "queued"),
    ],
)
def test_status_labels(changes: dict[str, object], long: str, compact: str) -> None:
    run = record(**changes)
    assert (status_label(run), status_label(run, compact=True)) == (long, compact)


def test_clock_skew_counts_as_now_everywhere() -> None:
    ahead = NOW + timedelta(seconds=30)  # another worker's clock runs ahead of ours
    assert seconds_between(ahead, NOW) == 0.0
    assert format_duration(-30.0) == "0:00" and format_age(-30.0) == "0s ago"
    assert seconds_between(NOW.replace(tzinfo=None), NOW + timedelta(minutes=2)) == 120.0  # SQLite's naive UTC


def test_durations_ages_and_moments() -> None:
    assert [format_duration(s) for s in (None, 5.9, 65, 3725)] == ["-", "0:05", "1:05", "1:02:05"]
    assert format_duration(None, "") == ""
    assert [format_age(s) for s in (42, 61, 7200, 2 * 86400 + 5)] == ["42s ago", "1m ago", "2h ago", "2d ago"]
    assert format_moment(NOW) == "2026-01-02 03:04:05" and format_moment(None, "") == ""
    assert format_moment(NOW.replace(tzinfo=None)) == "2026-01-02 03:04:05"


def test_numbers_rates_and_progress() -> None:
    assert format_metric(0.25) == "0.2500" and format_metric(None) == "-" and format_metric(None, missing="") == ""
    assert [format_rate(r) for r in (None, 2.5, 850, 12_345, 1.5e6)] == ["-", "2.5/s", "850/s", "12.3k/s", "1.5M/s"]
    assert format_progress(record()) == "r1 crm e2 50%"
    assert format_progress(record(status="succeeded", epoch=None)) == "r1 crm"
    assert format_progress(record(round=None)) == "-"
