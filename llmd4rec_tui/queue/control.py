"""Queue control shared by the CLI and the TUI: hold, release, reorder, remove, cancel, retry.

Each function is one short write transaction guarded by the run's status, so a request
racing a worker's claim either applies before the claim or fails with a clear message.
A running run is never touched here beyond ``cancel_requested``: its worker owns it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.config import RunSection
from llmd4rec_tui.queue.errors import QueueError
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import EventRow, Run
from llmd4rec_tui.store.queries import CLAIM_ORDER
from llmd4rec_tui.store.records import ACTIVE_STATUSES, now_utc

Move = Literal["top", "up", "down", "bottom"]
WAITING = ("queued", "held")
RETRYABLE = ("failed", "cancelled", "lost")
REMOVABLE = ("queued", "held", "succeeded", "failed", "cancelled", "lost")


def _runs(session: Session, ids: Iterable[int]) -> list[Run]:
    wanted = list(dict.fromkeys(ids))
    rows = {run.id: run for run in session.scalars(select(Run).where(Run.id.in_(wanted)))}
    missing = [i for i in wanted if i not in rows]
    if missing:
        raise QueueError(f"no run with id {missing[0]}")
    return [rows[i] for i in wanted]


def _require(run: Run, statuses: tuple[str, ...], action: str) -> None:
    if run.status not in statuses:
        raise QueueError(f"run {run.id} is {run.status}; only {'/'.join(statuses)} runs can be {action}")


def hold(store: Store, ids: Iterable[int]) -> None:
    """Keep queued runs from being claimed until released."""
    with store.write() as session:
        for run in _runs(session, ids):
            _require(run, ("queued", "held"), "held")
            run.status = "held"


def release(store: Store, ids: Iterable[int]) -> None:
    with store.write() as session:
        for run in _runs(session, ids):
            _require(run, ("queued", "held"), "released")
            run.status = "queued"


def set_priority(store: Store, ids: Iterable[int], priority: int) -> None:
    """Lower priorities run first."""
    with store.write() as session:
        for run in _runs(session, ids):
            _require(run, WAITING, "re-prioritised")
            run.priority = priority


def move(store: Store, run_id: int, where: Move) -> None:
    """Move a waiting run in claim order: to the top or bottom, or one place up or down."""
    with store.write() as session:
        (run,) = _runs(session, [run_id])
        _require(run, WAITING, "moved")
        order = list(session.scalars(select(Run).where(Run.status.in_(WAITING)).order_by(*CLAIM_ORDER)))
        index = order.index(run)
        if where == "top" and index > 0:
            run.priority = order[0].priority - 1
        elif where == "bottom" and index < len(order) - 1:
            run.priority = order[-1].priority + 1
        elif where in ("up", "down"):
            other_index = index - 1 if where == "up" else index + 1
            if 0 <= other_index < len(order):
                other = order[other_index]
                run.priority, other.priority = other.priority, run.priority
                run.enqueued_at, other.enqueued_at = other.enqueued_at, run.enqueued_at


def remove(store: Store, ids: Iterable[int], statuses: tuple[str, ...]) -> list[int]:
    """Delete runs (with their events, metrics and histograms) of the allowed statuses."""
    with store.write() as session:
        runs = _runs(session, ids)
        for run in runs:
            _require(run, statuses, "removed")
        removed = [run.id for run in runs]
        session.execute(delete(Run).where(Run.id.in_(removed)))
    return removed


def cancel(store: Store, ids: Iterable[int]) -> dict[int, str]:
    """Cancel waiting runs at once; ask the worker of a running run to stop it gracefully.

    Returns what happened per run: 'cancelled' or 'requested'.
    """
    done: dict[int, str] = {}
    with store.write() as session:
        for run in _runs(session, ids):
            _require(run, ACTIVE_STATUSES, "cancelled")
            if run.status == "running":
                run.cancel_requested = True
                done[run.id] = "requested"
            else:
                run.status, run.failure_kind, run.finished_at = "cancelled", "cancelled", now_utc()
                run.error = "cancelled before it started"
                done[run.id] = "cancelled"
    return done


def retry(store: Store, ids: Iterable[int] = (), all_failed: bool = False) -> list[int]:
    """Re-queue failed, cancelled or lost runs; each resumes from its last checkpoint.

    Attempts keep counting (the next one is attempt n + 1, so no two share a number) and the
    run gets its config's max_attempts afresh on top; a ``retried`` event keeps what ended
    the previous attempt.
    """
    with store.write() as session:
        if all_failed:
            runs = list(session.scalars(select(Run).where(Run.status.in_(("failed", "lost"))).order_by(Run.id)))
        else:
            runs = _runs(session, ids)
        for run in runs:
            _require(run, RETRYABLE, "retried")
            ended = {"status": run.status, "failure_kind": run.failure_kind, "error": run.error}
            session.add(EventRow(run_id=run.id, attempt=run.attempts, type="retried", ts=time.time(), payload=ended))
            run.max_attempts = run.attempts + _attempt_budget(run.config_json)
            run.status, run.cancel_requested = "queued", False
            run.failure_kind = run.error = run.traceback = run.stderr_tail = None
            run.exit_code = run.finished_at = None
        return [run.id for run in runs]


def _attempt_budget(config_json: str) -> int:
    """run.max_attempts of a stored resolved config (the default if it cannot be read)."""
    try:
        return int(json.loads(config_json)["run"]["max_attempts"])
    except (ValueError, KeyError, TypeError):
        return RunSection().max_attempts
