"""examples/studies/smoke.toml end to end: `search start`, a real `llmd4rec worker` running
`python -m engine`, `search run` returning when the 4 trials are closed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from llmd4rec_tui.cli import main; main()"]


@pytest.mark.slow
def test_the_smoke_study_completes_through_a_real_worker(tmp_path: Path) -> None:
    db = str(tmp_path / "runs.db")
    env = {k: v for k, v in os.environ.items() if k not in ("LLMD4REC_ENGINE_CMD", "LLMD4REC_RUNS_DIR")}

    def llmd4rec(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "--db", db, *args], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=timeout
        )

    started = llmd4rec("search", "start", str(ROOT / "examples" / "studies" / "smoke.toml"))
    assert started.returncode == 0, started.stderr
    worker = subprocess.Popen(
        [*CLI, "--db", db, "worker", "--poll", "0.2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        followed = llmd4rec("search", "run", "smoke", "--poll", "0.5", timeout=1800)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
    assert followed.returncode == 0, followed.stderr
    (study,) = json.loads(llmd4rec("search", "ls", "--json").stdout)
    assert study["name"] == "smoke" and study["finished"] and len(study["trials"]) == 4
    assert {t["state"] for t in study["trials"]} <= {"COMPLETE", "PRUNED"}
    assert study["best"] is not None and 0 < study["best"]["value"] <= 1
    for trial in study["trials"]:
        assert len(trial["run_ids"]) == 1 and sorted(trial["params"]) == [
            "distill.beta", "distill.gamma", "distill.t1", "distill.t2",
        ]  # fmt: skip
    # distinct parameters, also across the two processes (start, run) that asked for trials
    assert len({json.dumps(t["params"], sort_keys=True) for t in study["trials"]}) == 4
    runs = json.loads(llmd4rec("runs", "ls", "--json").stdout)
    assert len(runs) == 4 and all("study:smoke" in r["tags"] for r in runs)
