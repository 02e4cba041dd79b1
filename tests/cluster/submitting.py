"""The CLI as a cluster user calls it, for the tests on a real Slurm and a real Ray: one
database, the scheduler's environment, the fake engine passed on through LLMD4REC_ENGINE_CMD."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.queue.workers import CLI

WORKER_ARGS = ["--worker-arg=--heartbeat=0.3", "--worker-arg=--poll=0.2", "--worker-arg=--grace=3"]
SLOW_START_S = 240  # a worker starts in seconds on an idle machine; much longer on a loaded one


def cluster_cli(
    db_url: str, scheduler_env: Mapping[str, str], *args: str, engine: list[str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **scheduler_env}
    if engine is not None:
        env["LLMD4REC_ENGINE_CMD"] = subprocess.list2cmdline(engine)
    return subprocess.run([*CLI, "--db", db_url, *args], env=env, capture_output=True, text=True, timeout=timeout)


def submit_workers(
    db_url: str, scheduler_env: Mapping[str, str], on: list[str], runs_dir: Path, workers: int, engine: list[str],
    *extra: str, timeout: float = 120,
) -> list[str]:  # fmt: skip
    """`cluster submit --on ...` of ``workers`` workers on this node's disk; their job ids."""
    done = cluster_cli(
        db_url,
        scheduler_env,
        *("cluster", "submit", "--on", *on, "--workers", str(workers)),
        *("--runs-dir", str(runs_dir), "--same-node", "--json", *WORKER_ARGS, *extra),
        engine=engine,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["jobs"])


def cluster_status(db_url: str, scheduler_env: Mapping[str, str], timeout: float = 120) -> dict[str, Any]:
    """`cluster status --json` as it was printed."""
    done = cluster_cli(db_url, scheduler_env, "cluster", "status", "--json", timeout=timeout)
    assert done.returncode == 0, done.stderr
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown
