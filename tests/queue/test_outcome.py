"""How an engine's exit maps to a status and failure kind."""

from __future__ import annotations

import pytest

from engine.protocol import RunCancelled, RunFailed, RunFinished
from llmd4rec_tui.queue.outcome import Ending, Outcome, classify, preemption_limited

FINISHED = RunFinished(metrics={})


@pytest.mark.parametrize(
    ("ending", "status", "kind", "error"),
    [
        (Ending(0, finished=FINISHED), "succeeded", None, None),
        (Ending(0), "failed", "exception", "without a run_finished event"),
        (Ending(1, failed=RunFailed(message="ValueError: x", traceback="tb")), "failed", "exception", "ValueError: x"),
        (Ending(1, failed=RunFailed(message="out of memory", kind="oom")), "failed", "oom", "out of memory"),
        (Ending(-9), "failed", "signal", "SIGKILL"),
        (Ending(-9, oom_killed=True), "failed", "oom", "out-of-memory killer"),
        (Ending(-11), "failed", "signal", "SIGSEGV"),
        (Ending(2, stderr_last_line="error: crm.x = 1"), "failed", "config", "crm.x = 1"),
        (Ending(3), "failed", "exception", "code 3"),
        (Ending(130, cancelled=RunCancelled(), cancel_requested=True), "cancelled", "cancelled", "on request"),
        (Ending(-9, cancel_requested=True, escalated="SIGKILL"), "cancelled", "cancelled", "SIGKILL"),
        (Ending(130, cancelled=RunCancelled(), worker_stopping=True), "queued", None, "worker shutdown"),
        (Ending(130, cancelled=RunCancelled(), worker_stopping=True, preempted=True), "queued", "preempted", "its"),
        (Ending(-9, escalated="SIGKILL", worker_stopping=True, preempted=True), "queued", "preempted", "preempted"),
        (Ending(130, cancelled=RunCancelled()), "cancelled", "cancelled", "did not send"),
    ],
)
def test_classify(ending: Ending, status: str, kind: str | None, error: str | None) -> None:
    outcome = classify(ending)
    assert (outcome.status, outcome.failure_kind) == (status, kind)
    if error is None:
        assert outcome.error is None
    else:
        assert error in (outcome.error or "")


def test_a_failure_keeps_the_engine_traceback() -> None:
    outcome = classify(Ending(1, failed=RunFailed(message="boom", traceback="Traceback (most recent call last)")))
    assert outcome.traceback == "Traceback (most recent call last)"


def test_a_run_preempted_past_its_limit_fails() -> None:
    back = Outcome("queued", "preempted", "its worker was preempted")
    assert preemption_limited(back, preemptions=1, limit=2) == back
    failed = preemption_limited(back, preemptions=2, limit=2)
    assert (failed.status, failed.failure_kind) == ("failed", "preempted")
    assert "preempted 3 times, over the limit of 2" in (failed.error or "")
    other = Outcome("queued", None, "worker shutdown")
    assert preemption_limited(other, preemptions=99, limit=0) == other
