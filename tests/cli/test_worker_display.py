"""What `llmd4rec worker` prints: log lines into a pipe, a live table on a terminal."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from engine.protocol import EpochEnd, PhaseStarted, RunFinished, Step
from llmd4rec_tui.cli import app
from llmd4rec_tui.cli.worker_display import LiveTable
from llmd4rec_tui.queue.claim import ClaimedRun
from llmd4rec_tui.queue.outcome import Outcome
from tests.queue.workers import CLI, fake_engine

CONFIG = '[run]\nname = "{name}"\nseed = {seed}\n'


def _queue(db: str, tmp_path: Path, names: list[str]) -> None:
    files = []
    for seed, name in enumerate(names):
        path = tmp_path / f"{name}.toml"
        path.write_text(CONFIG.format(name=name, seed=seed))
        files.append(str(path))
    assert CliRunner().invoke(app, ["--db", db, "queue", "add", *files]).exit_code == 0


def test_into_a_pipe_the_worker_logs_claims_epochs_and_endings(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    _queue(db, tmp_path, ["good", "bad"])
    # the second run's engine fails at its first step; the first finishes its one epoch
    script = tmp_path / "engine.sh"
    good, bad = (subprocess.list2cmdline(fake_engine(*opts)) for opts in (["--steps", "2"], ["--fail-at", "0"]))
    script.write_text(f'#!/bin/sh\ncase "$*" in *"/2 "*|*"/2") exec {bad} "$@";; esac\nexec {good} "$@"\n')
    script.chmod(0o755)
    env = {**os.environ, "LLMD4REC_ENGINE_CMD": str(script)}
    done = subprocess.run(
        [*CLI, "--db", db, "worker", "--until-empty", "--poll", "0.1"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "run 1 (good) claimed (attempt 1)" in lines
    epoch = next(line for line in lines if line.startswith("run 1 (good) r0 crm epoch 1/1"))
    assert "valid ndcg@10 0.2500" in epoch
    assert "run 1 (good) succeeded: test ndcg@10 crm 0.2500" in lines
    assert "run 2 (bad) claimed (attempt 1)" in lines
    failed = next(line for line in lines if line.startswith("run 2 (bad) failed (exception)"))
    assert "step failed on purpose" in failed
    assert "\x1b[" not in done.stdout  # no live display, no colour codes in a log


def _claim(run_id: int, name: str) -> ClaimedRun:
    return ClaimedRun(
        id=run_id, name=name, attempt=1, config_json="{}", config_hash="h", seed=0, run_dir="", last_checkpoint=None
    )


def test_on_a_terminal_the_live_table_shows_position_pace_and_eta() -> None:
    printed: list[str] = []
    table = LiveTable(printed.append, clock=lambda: 130.0)
    first, second = _claim(3, "sasrec lr[0.1]"), _claim(4, "waiting")
    table.claimed(first)
    table.claimed(second)
    table.event(first, PhaseStarted(round=1, model="llm", epochs=4, ts=0.0))
    table.event(first, EpochEnd(round=1, model="llm", epoch=1, losses={}, valid={"ndcg@10": 0.1}, ts=100.0))
    table.event(
        first, Step(round=1, model="llm", epoch=2, step=5, losses={}, progress=0.5, samples_per_s=850.0, ts=120.0)
    )
    console = Console(record=True, width=100, color_system=None)
    console.print(table)
    rows = {line.split()[0]: line for line in console.export_text().splitlines() if line.strip()[:1].isdigit()}
    assert "sasrec lr[0.1]" in rows["3"] and "r1 llm e2/4 50%" in rows["3"] and "850" in rows["3"]
    assert rows["3"].rstrip().endswith("4:00")  # 2.5 epochs left at 100 s each (250 s), 10 s since the last event
    assert "starting" in rows["4"]
    table.event(first, RunFinished(metrics={"crm": {"ndcg@10": 0.31}, "llm": {"ndcg@10": 0.29}}, ts=140.0))
    table.ended(first, Outcome("succeeded"))
    assert printed == ["run 3 (sasrec lr[0.1]) succeeded: test ndcg@10 crm 0.3100 llm 0.2900"]
    console = Console(record=True, width=100, color_system=None)
    console.print(table)
    after = console.export_text()
    assert "sasrec" not in after and "waiting" in after
