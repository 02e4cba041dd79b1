"""Worker settings: how many runs, how long a lease, which engine command, where run dirs go."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

ENV_ENGINE_CMD = "LLMD4REC_ENGINE_CMD"
ENV_RUNS_DIR = "LLMD4REC_RUNS_DIR"
#: Set by a cluster job script (or Ray actor) for the worker inside it: SIGTERM then means preemption.
ENV_CLUSTER_JOB = "LLMD4REC_CLUSTER_JOB"


def default_engine_cmd() -> list[str]:
    """`python -m engine` with this interpreter, unless LLMD4REC_ENGINE_CMD says otherwise."""
    custom = os.environ.get(ENV_ENGINE_CMD)
    return shlex.split(custom) if custom else [sys.executable, "-m", "engine"]


def default_runs_dir(db_url: str) -> Path:
    """LLMD4REC_RUNS_DIR, else runs/ beside a SQLite file, else ./runs."""
    custom = os.environ.get(ENV_RUNS_DIR)
    if custom:
        return Path(custom)
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent / "runs"
    return Path("runs").resolve()


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 1
    until_empty: bool = False  # exit when nothing is queued or running anywhere
    drain: bool = False  # on SIGINT/SIGTERM let running runs finish instead of interrupting them
    lease_s: float = 60.0  # a run whose lease is this old is lost
    heartbeat_s: float = 10.0  # lease renewal and cancel check (cancel is also polled each poll_s)
    poll_s: float = 2.0  # how often an idle worker looks for work
    grace_s: float = 30.0  # after SIGINT, wait this long before SIGTERM, and again before SIGKILL
    engine_cmd: list[str] = field(default_factory=default_engine_cmd)
    runs_dir: Path = Path("runs")
    stderr_lines: int = 60  # kept as the run's stderr tail
    max_preemptions: int = 20  # a run preempted more often than this fails (kind preempted)
    cluster_job: str | None = None  # the Slurm job (array task) or Ray actor this worker runs in
    gpus: tuple[str, ...] = ()  # device ids this worker owns, shared out among its engines (queue/gpus.py)

    def __post_init__(self) -> None:
        checks = {
            "concurrency": self.concurrency >= 1,
            "lease_s": self.lease_s > 0,
            "heartbeat_s": 0 < self.heartbeat_s < self.lease_s,
            "poll_s": self.poll_s > 0,
            "grace_s": self.grace_s >= 0,
            "engine_cmd": bool(self.engine_cmd),
            "max_preemptions": self.max_preemptions >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                expected = "below lease_s and above 0" if name == "heartbeat_s" else "a positive value"
                raise ValueError(f"worker setting {name} = {getattr(self, name)!r}: expected {expected}")
