"""Expired leases: lost runs are re-queued while attempts remain, then stay lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from llmd4rec_tui.queue.claim import claim_next
from llmd4rec_tui.queue.control import cancel
from llmd4rec_tui.queue.lease import reap_expired, renew_lease
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.records import now_utc
from tests.fixtures.queued import queue_runs, read_events, read_run


def later() -> datetime:
    """A moment after every 60 s lease taken in these tests has expired."""
    return now_utc() + timedelta(seconds=61)


def test_expired_runs_are_requeued_then_lost_after_max_attempts(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)  # max_attempts defaults to 3
    for attempt in (1, 2, 3):
        claim = claim_next(store, f"w{attempt}", lease_s=60)
        assert claim is not None and claim.attempt == attempt and claim.resume == (attempt > 1)
        assert reap_expired(store) == []  # the lease is still fresh
        assert reap_expired(store, now=later()) == [run_id]
    detail = read_run(store, run_id)
    assert detail is not None
    assert detail.run.status == "lost" and detail.run.failure_kind == "lost"
    assert "3 attempts used" in (detail.run.error or "")
    lost = read_events(store, run_id, "lost")
    assert [e.payload["now"] for e in lost] == ["queued", "queued", "lost"]


def test_a_reaped_lease_cannot_be_renewed_by_its_old_worker(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)
    claim_next(store, "slow", lease_s=60)
    assert renew_lease(store, run_id, "slow", lease_s=60).held
    reap_expired(store, now=later())
    assert not renew_lease(store, run_id, "slow", lease_s=60).held


def test_renewal_reports_a_cancel_request_and_reaping_honours_it(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)
    claim_next(store, "w", lease_s=60)
    cancel(store, [run_id])
    assert renew_lease(store, run_id, "w", lease_s=60).cancel_requested
    reap_expired(store, now=later())
    detail = read_run(store, run_id)
    assert detail is not None and detail.run.status == "cancelled"
