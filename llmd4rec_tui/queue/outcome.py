"""What an engine attempt's end means: the run's next status and its failure kind.

Kinds: exception (a run_failed event, with its traceback), oom (run_failed kind oom, or
SIGKILL while the cgroup's OOM-kill counter rose), disk_full (run_failed kind disk_full,
or the worker could not write the run directory for lack of space), signal (killed by a
signal), config (the engine refused the config, exit 2), cancelled, run_dir (another
attempt's engine still holds the run directory, or it belongs to another database),
worker (the supervisor itself failed; its engine was stopped), lost (set by the reaper), and
preempted (the worker was preempted: SIGUSR1 before a cluster time limit, or SIGTERM from
scancel; the run goes back to the queue, the attempt not counted, until its requeue limit).
"""

from __future__ import annotations

import errno
import signal
from dataclasses import dataclass
from pathlib import Path

from engine.protocol import EXIT_CANCELLED, EXIT_FINISHED, EXIT_USAGE, RunCancelled, RunFailed, RunFinished

CGROUP_EVENTS = Path("/sys/fs/cgroup/memory.events")


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded, failed, cancelled, or queued (interrupted by a worker stop)
    failure_kind: str | None = None
    error: str | None = None
    traceback: str | None = None


@dataclass
class Ending:
    """The terminal facts the supervisor gathered for one attempt."""

    returncode: int
    finished: RunFinished | None = None
    failed: RunFailed | None = None
    cancelled: RunCancelled | None = None
    cancel_requested: bool = False  # a user asked for this run to be cancelled
    worker_stopping: bool = False  # the worker interrupted it to shut down
    preempted: bool = False  # ... because the worker itself was preempted
    escalated: str | None = None  # "SIGTERM"/"SIGKILL" when the grace period ran out
    oom_killed: bool = False
    stderr_last_line: str = ""


def oom_kill_count() -> int | None:
    """The cgroup v2 OOM-kill counter, when this machine exposes one."""
    try:
        for line in CGROUP_EVENTS.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def classify(end: Ending) -> Outcome:
    rc = end.returncode
    stopped = end.cancelled is not None or rc == EXIT_CANCELLED or end.escalated is not None
    if end.finished is not None and rc == EXIT_FINISHED:
        return Outcome("succeeded")
    if stopped and end.cancel_requested:
        how = f" (killed with {end.escalated} after the grace period)" if end.escalated else ""
        return Outcome("cancelled", "cancelled", f"cancelled on request{how}")
    if stopped and end.worker_stopping and end.preempted:
        return Outcome("queued", "preempted", "its worker was preempted; resumes from its checkpoint")
    if stopped and end.worker_stopping:
        return Outcome("queued", None, "interrupted by a worker shutdown; resumes from its checkpoint")
    if end.failed is not None:
        return Outcome("failed", end.failed.kind, end.failed.message, end.failed.traceback or None)
    if rc < 0:
        name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else f"signal {-rc}"
        if end.oom_killed and -rc == signal.SIGKILL:
            return Outcome("failed", "oom", f"engine killed by {name}: the out-of-memory killer fired")
        return Outcome("failed", "signal", f"engine killed by {name}")
    if stopped:
        return Outcome("cancelled", "cancelled", "the engine stopped on a signal the worker did not send")
    if rc == EXIT_USAGE:
        return Outcome("failed", "config", f"engine refused the config (exit 2): {end.stderr_last_line}".strip())
    if rc == EXIT_FINISHED:
        return Outcome("failed", "exception", "engine exited 0 without a run_finished event")
    return Outcome("failed", "exception", f"engine exited with code {rc} without a run_failed event")


def preemption_limited(outcome: Outcome, preemptions: int, limit: int) -> Outcome:
    """A run preempted more than ``limit`` times fails (kind preempted) instead of going back again."""
    if outcome.failure_kind != "preempted" or preemptions + 1 <= limit:
        return outcome
    return Outcome(
        "failed",
        "preempted",
        f"preempted {preemptions + 1} times, over the limit of {limit} (worker --max-preemptions); "
        "give its jobs more time (cluster submit --time) or retry it",
    )


def write_failure(path: Path, exc: OSError) -> Outcome:
    """A write of the worker's own into the run directory failed: disk_full when space ran out."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Outcome("failed", "disk_full", f"no space left to write {path}: {exc.strerror}")
    return Outcome("failed", "exception", f"cannot write {path}: {exc.strerror or exc}")
