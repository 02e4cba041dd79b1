"""Engine output the worker must survive: malformed values, NaN and inf, bytes that are not
UTF-8, and failures of the supervisor itself. Real worker processes and the fake engine."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.store.queries import run_metrics
from tests.fixtures.queued import queue_runs, read_events, read_run
from tests.queue.workers import fake_engine, run_worker, start_worker_process, steps_done

BAD_VALUE = b'{"v":1,"type":"eval","round":0,"phase":"crm","model":"crm","split":"valid","metrics":{"ndcg@10":"high"}}'
NAN_LOSS = b'{"v":1,"type":"step","round":0,"phase":"crm","epoch":0,"step":9,"losses":{"total":NaN,"ce":Infinity}}'
BAD_STDERR = b"warning: \xff\xfe broken bytes"
NOT_UTF8 = b'{"v":1,"type":"log","level":"info","message":"caf\xe9 \xff"}'


def _worker_until_empty(db_url: str, runs_dir: Path, *engine_options: str) -> None:
    worker = start_worker_process(db_url, runs_dir, fake_engine(*engine_options), "--until-empty")
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr


def test_bad_values_nan_losses_and_invalid_utf8_cost_bad_lines_not_the_run(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    (run_id,) = queue_runs(store, 1)
    lines = [BAD_VALUE, NAN_LOSS, NOT_UTF8]
    options = [f"--stdout-hex={line.hex()}" for line in lines]
    options += [f"--stderr-hex={BAD_STDERR.hex()}", "--stderr-flood=300000"]  # more than a pipe holds
    _worker_until_empty(db_url, tmp_path, "--steps", "3", *options)
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.bad_lines) == ("succeeded", 2)
    reasons = [e.payload["reason"] for e in read_events(store, run_id, "bad_line")]
    assert "eval.metrics = {'ndcg@10': 'high'} has the wrong type" in reasons[0]
    assert reasons[1].startswith("not UTF-8 (byte 0xe9")
    (nan_step,) = [e for e in read_events(store, run_id, "step") if e.payload["step"] == 9]
    assert nan_step.payload["losses"] == {"total": "nan", "ce": "inf"}  # kept faithfully, as text
    with store.session() as session:
        steps = {m.step for m in run_metrics(session, run_id, split="train")}
    assert 9 not in steps and steps == {0, 1, 2}  # the finite series has a gap, no fake number
    assert "\ufffd" in (detail.stderr_tail or "")
    assert steps_done(tmp_path, run_id) == [0, 1, 2]


def test_a_failure_inside_the_supervisor_stops_the_engine_before_failing_the_run(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (run_id,) = queue_runs(store, 1)
    original = RunIngestor.add

    def add(self: RunIngestor, item: object) -> None:
        if getattr(item, "type", "") == "checkpoint":
            raise RuntimeError("supervisor bug")
        original(self, item)  # type: ignore[arg-type]

    monkeypatch.setattr(RunIngestor, "add", add)
    run_worker(store, tmp_path, "--steps", "200", "--sleep", "0.05")
    detail = read_run(store, run_id)
    assert (detail.run.status, detail.run.failure_kind) == ("failed", "worker")
    assert "its engine was stopped" in (detail.run.error or "")
    assert detail.traceback is not None and "supervisor bug" in detail.traceback
    done = steps_done(tmp_path, run_id)
    time.sleep(0.5)
    assert steps_done(tmp_path, run_id) == done and len(done) < 200  # no engine trains on unsupervised
    pids = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert pids == []
