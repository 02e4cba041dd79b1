"""Queue control: hold/release, reorder, remove, cancel and retry, with clear refusals."""

from __future__ import annotations

import threading

import pytest

from llmd4rec_tui.queue import control
from llmd4rec_tui.queue.claim import claim_next
from llmd4rec_tui.queue.enqueue import add_runs
from llmd4rec_tui.queue.errors import QueueError
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.queries import queue_order
from tests.fixtures.queued import pending, queue_runs, read_run


def _order(store: Store) -> list[int]:
    with store.session() as session:
        return [r.id for r in queue_order(session)]


def _status(store: Store, run_id: int) -> str:
    detail = read_run(store, run_id)
    assert detail is not None
    return detail.run.status


def test_move_up_down_top_bottom(store: Store) -> None:
    a, b, c, d = queue_runs(store, 4)
    control.move(store, c, "up")
    assert _order(store) == [a, c, b, d]
    control.move(store, a, "down")
    assert _order(store) == [c, a, b, d]
    control.move(store, d, "top")
    assert _order(store) == [d, c, a, b]
    control.move(store, d, "bottom")
    assert _order(store) == [c, a, b, d]
    control.move(store, c, "up")  # already first: nothing changes
    assert _order(store) == [c, a, b, d]
    control.set_priority(store, [b], -10)
    assert _order(store)[0] == b


def test_hold_release_and_refusals(store: Store) -> None:
    a, b = queue_runs(store, 2)
    control.hold(store, [a])
    assert claim_next(store, "w", 60).id == b  # type: ignore[union-attr]
    with pytest.raises(QueueError, match=f"run {b} is running; only queued/held runs can be held"):
        control.hold(store, [b])
    with pytest.raises(QueueError, match="no run with id 999"):
        control.release(store, [a, 999])
    assert _status(store, a) == "held"  # the failed request changed nothing
    control.release(store, [a])
    assert _status(store, a) == "queued"
    with pytest.raises(QueueError, match="only queued/held runs can be moved"):
        control.move(store, b, "top")


def test_cancel_waiting_at_once_and_running_by_request(store: Store) -> None:
    a, b = queue_runs(store, 2)
    claim_next(store, "w", 60)
    assert control.cancel(store, [a, b]) == {a: "requested", b: "cancelled"}
    detail = read_run(store, a)
    assert detail is not None and detail.run.status == "running" and detail.run.cancel_requested
    assert _status(store, b) == "cancelled"
    with pytest.raises(QueueError, match="is cancelled"):
        control.cancel(store, [b])


def test_retry_requeues_failed_and_cancelled_and_refuses_others(store: Store) -> None:
    a, b = queue_runs(store, 2)
    control.cancel(store, [a])
    with pytest.raises(QueueError, match=f"run {b} is queued; only failed/cancelled/lost runs can be retried"):
        control.retry(store, [b])
    assert control.retry(store, [a]) == [a]
    assert _status(store, a) == "queued"
    assert control.retry(store, all_failed=True) == []


def test_remove_refuses_running_runs(store: Store) -> None:
    a, b = queue_runs(store, 2)
    claim_next(store, "w", 60)
    with pytest.raises(QueueError, match=f"run {a} is running"):
        control.remove(store, [a, b], statuses=control.REMOVABLE)
    assert control.remove(store, [b], statuses=control.REMOVABLE) == [b]
    assert _order(store) == [a]


def test_concurrent_adds_of_one_config_add_it_once(store: Store) -> None:
    outcomes: list[str] = []

    def add() -> None:
        try:
            add_runs(store, pending(1, name="same"))
            outcomes.append("added")
        except QueueError:
            outcomes.append("refused")

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "refused", "refused", "refused"]
    assert len(_order(store)) == 1
