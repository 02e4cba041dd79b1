"""A study through a real worker (the fake engine, whose per-round validation follows
distill.t1 and whose test metrics run the other way): trials complete on validation only,
a trial below the median is pruned and its run cancelled, and a coordinator killed half-way
is started again and finishes the study."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.search.coordinator import read_study
from llmd4rec_tui.store.db import open_store
from llmd4rec_tui.store.models import Run
from tests.queue.workers import fake_engine, start_worker_process, wait_for
from tests.search.study_files import write_study

runner = CliRunner()
CLI = [sys.executable, "-c", "from llmd4rec_tui.cli import main; main()"]


def _coordinator(db: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "--db", db, "search", "run", "fake", "--poll", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_study_completes_prunes_and_survives_a_killed_coordinator(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    start = runner.invoke(app, ["--db", db, "search", "start", str(write_study(tmp_path))])
    assert start.exit_code == 0, start.output
    engine = fake_engine("--steps", "1", "--sleep", "0.6", "--valid-from", "distill.t1")
    worker = start_worker_process(db, tmp_path / "runs", engine)
    coordinator = _coordinator(db)
    store = open_store(db)
    try:
        wait_for(lambda: len(read_study(store, "fake").trials) >= 2, timeout=120, what="the second trial")
        coordinator.send_signal(signal.SIGKILL)  # mid-study, with trial 1 queued or running
        coordinator.wait(timeout=10)
        restarted = _coordinator(db)
        out, err = restarted.communicate(timeout=240)
        assert restarted.returncode == 0, err
        record = read_study(store, "fake")
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
        store.close()
    states = {t.params["distill.t1"]: t.state for t in record.trials}
    assert states == {2.0: "COMPLETE", 4.0: "COMPLETE", 0.5: "PRUNED", 3.5: "COMPLETE"}, (out, err)
    # valid NDCG@10 = t1 / 10 * (round + 1) after the last round (3), the mean of both models;
    # test is 1 - that, so a study reading test would rank t1 = 0.5 first
    values = {t.params["distill.t1"]: t.value for t in record.trials if t.state == "COMPLETE"}
    assert values == pytest.approx({2.0: 0.8, 4.0: 1.6, 3.5: 1.4})
    assert record.best is not None and record.best.params == {"distill.t1": 4.0}
    pruned = next(t for t in record.trials if t.state == "PRUNED")
    assert pruned.rounds == pytest.approx({0: 0.05, 1: 0.1}) and "pruned after round 1" in pruned.note
    store = open_store(db)
    with store.session() as session:
        runs = {r.id: r for r in session.scalars(select(Run))}
    store.close()
    assert len(runs) == 4  # one run a trial: the restart enqueued nothing twice
    assert runs[pruned.run_ids[0]].status == "cancelled"
    assert f"study:fake:trial:{pruned.number}" in runs[pruned.run_ids[0]].tags
    shown = runner.invoke(app, ["--db", db, "search", "ls", "--json"])
    assert shown.exit_code == 0 and '"state": "PRUNED"' in shown.stdout
    best = runner.invoke(app, ["--db", db, "search", "best", "fake", "--config-out", str(tmp_path / "best.toml")])
    assert best.exit_code == 0, best.output
    trial_run = record.best.run_ids[0]
    assert f"already ran on test: run {trial_run} (seed 0);" in " ".join(best.output.split())
    text = (tmp_path / "best.toml").read_text()
    assert "t1 = 4.0" in text and "seeds = [0, 1, 2]" in text
    assert 'tags = ["study:fake:best"]' in text  # neither the base's "fake" nor the trials' study tag
    # seed 0 is trial 1's config: --force reruns it under the final tag, apart from the search
    again = runner.invoke(app, ["--db", db, "queue", "add", str(tmp_path / "best.toml"), "--force", "--json"])
    assert again.exit_code == 0 and '"added": [5, 6, 7]' in again.stdout, again.output


def test_a_trial_takes_a_run_of_its_config_already_queued_or_done(tmp_path: Path) -> None:
    """As `queue add --skip-done` does for a sweep: the default config's run is not run twice."""
    from engine.config import config_to_toml
    from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
    from llmd4rec_tui.search.coordinator import Coordinator, create_study
    from llmd4rec_tui.search.study_file import load_study

    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    spec = load_study(write_study(tmp_path, parallelism=2))
    done = spec.trial_config({"distill.t1": 2.0}, 0, 99)  # other name and tags, same config
    (existing,) = add_runs(store, [PendingRun(tmp_path / "base.toml", done, config_to_toml(done))]).added
    create_study(store, spec)
    record = Coordinator(store, "fake").step()
    store.close()
    asked = [t for t in record.trials if t.state != "WAITING"]  # the enqueued rest wait, without runs
    assert [t.run_ids for t in asked] == [(existing,), (existing + 1,)]
