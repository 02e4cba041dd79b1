"""Queue actions of the Runs screen, each one short write through the queue's own control.

Each function takes the run ids the user chose and returns one line saying what
happened; a refused action raises QueueError (or ConfigError) with the reason, which the
screen shows as an error notification. The screen runs them in a thread, never the UI's.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from llmd4rec_tui.queue import control
from llmd4rec_tui.queue.enqueue import add_runs, validate
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Run


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def hold_or_release(store: Store, ids: list[int]) -> str:
    """Release when every chosen run is held, otherwise hold them all."""
    with store.session() as session:
        statuses = set(session.scalars(select(Run.status).where(Run.id.in_(ids))))
    if statuses == {"held"}:
        control.release(store, ids)
        return f"released {_ids(ids)}"
    control.hold(store, ids)
    return f"held {_ids(ids)}"


def move(store: Store, ids: list[int], where: control.Move) -> str:
    order = ids if where in ("up", "top") else list(reversed(ids))
    for run_id in order:
        control.move(store, run_id, where)
    return f"moved {_ids(ids)} {where}"


def cancel(store: Store, ids: list[int]) -> str:
    done = control.cancel(store, ids)
    asked = [i for i, what in done.items() if what == "requested"]
    now = [i for i, what in done.items() if what == "cancelled"]
    parts = ([f"cancelled {_ids(now)}"] if now else []) + ([f"asked {_ids(asked)} to stop"] if asked else [])
    return "; ".join(parts)


def retry(store: Store, ids: list[int]) -> str:
    return f"re-queued {_ids(control.retry(store, ids))}"


def remove(store: Store, ids: list[int]) -> str:
    return f"deleted {_ids(control.remove(store, ids, control.REMOVABLE))}"


def add_configs(store: Store, paths: list[Path]) -> str:
    """Validate every file first, then add all their runs or none."""
    result = add_runs(store, validate(paths))
    text = f"queued {len(result.added)} run(s) from {len(paths)} file(s)"
    if result.skipped:
        text += f"; skipped {len(result.skipped)} already done"
    return text
