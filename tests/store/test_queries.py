"""Listings page from the runs and summary tables; details come back as frozen records."""

from __future__ import annotations

import dataclasses
import json

import pytest

from llmd4rec_tui.queue.control import hold
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.queries import get_run, list_runs, queue_order
from llmd4rec_tui.store.records import to_jsonable
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
