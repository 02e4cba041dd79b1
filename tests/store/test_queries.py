"""Listings page from the runs and summary tables; details come back as frozen records."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from llmd4rec_tui.queue.control import hold
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Run, Worker
from llmd4rec_tui.store.queries import get_run, list_runs, list_workers, queue_order, resolved_config
from llmd4rec_tui.store.records import now_utc, to_jsonable
from llmd4rec_tui.store.run_filter import RunFilter, RunSort
from tests.fixtures.queued import queue_runs


def test_list_runs_pages_newest_first_and_filters_by_status(store: Store) -> None:
    ids = queue_runs(store, 5)
    hold(store, ids[:2])
    with store.session() as session:
        assert [r.id for r in list_runs(session, limit=2)] == [ids[4], ids[3]]
        assert [r.id for r in list_runs(session, limit=2, offset=2)] == [ids[2], ids[1]]
        held_oldest_first = list_runs(session, RunFilter(statuses=("held",)), RunSort("id", descending=False))
        assert [r.id for r in held_oldest_first] == ids[:2]


def test_queue_order_is_claim_order(store: Store) -> None:
    late = queue_runs(store, 2, name="late", priority=5)
    early = queue_runs(store, 2, name="early", first_seed=10, priority=-1)
    with store.session() as session:
        assert [r.id for r in queue_order(session)] == early + late


def test_records_are_frozen_and_serialise_to_json(store: Store) -> None:
    (run_id,) = queue_runs(store, 1, name="json")
    with store.session() as session:
        detail = get_run(session, run_id)
        assert get_run(session, run_id + 100) is None
    assert detail is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        detail.run.status = "running"  # type: ignore[misc]
    data = json.loads(json.dumps(to_jsonable(detail)))
    assert data["run"]["name"] == "json 0" and data["run"]["status"] == "queued"
    assert data["config"]["run"]["seed"] == 0 and data["run"]["enqueued_at"].endswith("+00:00")


def test_a_listing_serialises_to_the_keys_scripts_have_always_read(store: Store) -> None:
    queue_runs(store, 1)
    with store.session() as session:
        (run,) = list_runs(session)
    assert run.loss_trail == () and run.epoch is None  # on the record for the Runs screen...
    listed = " ".join(to_jsonable(run))  # ...but not in `runs ls --json`
    assert listed == (
        "id name status priority attempts max_attempts config_hash dataset seed tags enqueued_at started_at "
        "finished_at worker_id exit_code failure_kind error cancel_requested round phase progress crm_ndcg10 "
        "llm_ndcg10 events bad_lines seconds"
    )


def test_an_unreadable_stored_config_shows_as_empty(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)
    with store.write() as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.config_json = "{not json"
    with store.session() as session:
        detail = get_run(session, run_id)
    assert detail is not None and detail.config == {} and detail.run.name == "run 0"
    assert resolved_config("[1, 2]") == {} and resolved_config('{"run": {"seed": 3}}') == {"run": {"seed": 3}}


def test_list_workers_counts_running_runs_and_can_leave_out_stopped_workers(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)
    started = now_utc() - timedelta(minutes=5)
    with store.write() as session:
        session.add(Worker(id="old", host="h", pid=1, started_at=started, heartbeat_at=started, stopped_at=started))
        session.add(Worker(id="live", host="h", pid=2, concurrency=2, started_at=started, heartbeat_at=now_utc()))
        run = session.get(Run, run_id)
        assert run is not None
        run.status, run.worker_id = "running", "live"
    with store.session() as session:
        everyone = list_workers(session)
        live = list_workers(session, live_only=True)
    assert [(w.id, w.running, w.stopped_at is not None) for w in everyone] == [("old", 0, True), ("live", 1, False)]
    assert [w.id for w in live] == ["live"] and live[0].heartbeat_age_s(now_utc()) < 60
