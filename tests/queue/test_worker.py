"""One worker against the fake engine: outcomes, failure kinds, bad lines, reproducibility."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from llmd4rec_tui.queue.control import cancel
from llmd4rec_tui.queue.settings import WorkerSettings
from llmd4rec_tui.queue.worker import QueueWorker
from llmd4rec_tui.store.db import Store
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, run_dir_of, run_worker, steps_done, wait_for


def test_runs_succeed_with_metrics_and_reproducibility_facts(store: Store, tmp_path: Path) -> None:
    ids = queue_runs(store, 2)
    assert sorted(run_worker(store, tmp_path, "--steps", "3", concurrency=2)) == ids
    for run_id in ids:
        detail = read_run(store, run_id)
        assert detail.run.status == "succeeded" and detail.run.exit_code == 0
        assert detail.run.crm_ndcg10 == 0.25 and detail.metrics["crm"]["test"]["ndcg@10"] == 0.25
        assert steps_done(tmp_path, run_id) == [0, 1, 2]
        env = detail.environment
        assert env["seed"] == detail.run.seed and env["device"] == "cpu" and env["dataset_fingerprint"] == "f00d"
        assert set(env["versions"]) >= {"torch", "transformers", "peft"} and env["host"] and env["python"]
        assert detail.git_commit is not None and len(detail.git_commit) == 40 and detail.git_dirty is not None
        assert detail.run_dir == str(run_dir_of(tmp_path, run_id))
        assert json.loads((run_dir_of(tmp_path, run_id) / "config.json").read_text()) == detail.config


def test_an_engine_exception_is_failed_with_traceback_and_stderr_tail(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    run_worker(store, tmp_path, "--fail-at", "1")
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.failure_kind, detail.run.exit_code) == ("failed", "exception", 1)
    assert detail.run.error == "ValueError: step failed on purpose"
    assert detail.traceback is not None and "ValueError" in detail.traceback
    assert "failing on purpose" in (detail.stderr_tail or "")


def test_out_of_memory_and_signals_are_told_apart(store: Store, tmp_path: Path) -> None:
    (oom,) = queue_runs(store, 1, name="oom")
    run_worker(store, tmp_path, "--oom-at", "1")
    (crash,) = queue_runs(store, 1, name="crash", first_seed=5)
    run_worker(store, tmp_path, "--crash-at", "1")
    assert read_run(store, oom).run.failure_kind == "oom"
    crashed = read_run(store, crash).run
    assert (crashed.status, crashed.failure_kind, crashed.exit_code) == ("failed", "signal", -9)
    assert crashed.error == "engine killed by SIGKILL"


def test_malformed_lines_are_logged_and_skipped(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    run_worker(store, tmp_path, "--malformed", "4")
    detail = read_run(store, run_id)
    assert detail.run.status == "succeeded" and detail.run.bad_lines == 4
    reasons = [e.payload["reason"] for e in read_events(store, run_id, "bad_line")]
    assert reasons[0].startswith("not JSON") and "unknown event type 'no_such_event'" in reasons[1]
    assert "wrong type" in reasons[2] and reasons[3] == "not a JSON object"


def test_an_engine_that_cannot_start_fails_the_run_not_the_worker(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    run_worker(store, tmp_path, engine_cmd=[str(tmp_path / "no-such-engine")])
    detail = read_run(store, run_id)
    assert detail.run.status == "failed" and "cannot start the engine" in (detail.run.error or "")


def test_a_cancel_that_is_ignored_escalates_to_kill(store: Store, tmp_path: Path) -> None:
    (run_id,) = queue_runs(store, 1)
    timer = threading.Timer(1.0, lambda: cancel(store, [run_id]))
    timer.start()
    run_worker(store, tmp_path, "--ignore-sigint", "--steps", "200", "--sleep", "0.05", grace_s=0.3)
    timer.join()
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.failure_kind) == ("cancelled", "cancelled")
    assert "SIGKILL" in (detail.run.error or "") and detail.run.exit_code == -9
    stops = read_events(store, run_id, "stop")
    assert stops[0].payload == {"reason": "cancel requested", "signal": "SIGINT"}


def test_drain_lets_running_runs_finish_and_claims_nothing_more(store: Store, tmp_path: Path) -> None:
    first, second = queue_runs(store, 2)
    settings = WorkerSettings(
        drain=True,
        poll_s=0.05,
        heartbeat_s=0.2,
        engine_cmd=fake_engine("--steps", "6", "--sleep", "0.1"),
        runs_dir=tmp_path,
    )
    worker = QueueWorker(store, settings)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_for(lambda: len(steps_done(tmp_path, first)) >= 1, what="the first step")
    worker.request_stop()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert read_run(store, first).run.status == "succeeded"
    assert read_run(store, second).run.status == "queued"


def test_a_recorded_event_log_replays_into_the_store(store: Store, tmp_path: Path) -> None:
    log = Path(__file__).resolve().parents[1] / "fixtures" / "events" / "finished.jsonl"
    (run_id,) = queue_runs(store, 1)
    run_worker(store, tmp_path, "--replay", str(log))
    detail = read_run(store, run_id)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert detail.run.status == "succeeded" and detail.run.events == len(lines) and detail.run.bad_lines == 0
    final = json.loads(lines[-1])
    assert final["type"] == "run_finished"
    assert detail.metrics["crm"]["test"] == final["metrics"]["crm"]
