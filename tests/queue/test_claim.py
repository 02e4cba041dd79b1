"""Claims are atomic and ordered: priority, then enqueue time; held runs are never claimed."""

from __future__ import annotations

import threading

from llmd4rec_tui.queue.claim import claim_next
from llmd4rec_tui.queue.control import hold
from llmd4rec_tui.store.db import Store
from tests.fixtures.queued import queue_runs, read_run


def test_claims_follow_priority_then_enqueue_order_and_skip_held(store: Store) -> None:
    normal = queue_runs(store, 3, name="normal")
    urgent = queue_runs(store, 1, name="urgent", first_seed=10, priority=-5)
    hold(store, [normal[1]])
    order = []
    while (claim := claim_next(store, "w1", lease_s=60)) is not None:
        order.append(claim.id)
        assert claim.attempt == 1 and not claim.resume
    assert order == [urgent[0], normal[0], normal[2]]
    detail = read_run(store, normal[0])
    assert detail is not None and detail.run.status == "running" and detail.run.worker_id == "w1"
    assert detail.lease_expires_at is not None and detail.run.attempts == 1


def test_concurrent_claimers_never_take_the_same_run(store: Store) -> None:
    ids = queue_runs(store, 40)
    taken: dict[str, list[int]] = {f"w{i}": [] for i in range(4)}
    errors: list[BaseException] = []

    def claim_all(worker: str) -> None:
        try:
            while (claim := claim_next(store, worker, lease_s=60)) is not None:
                taken[worker].append(claim.id)
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=claim_all, args=(w,)) for w in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    claimed = [run_id for runs in taken.values() for run_id in runs]
    assert sorted(claimed) == ids  # every run once, none twice
