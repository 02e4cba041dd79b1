"""Fill a real SQLite database for TUI tests: runs via `queue add`, events via the ingestor.

Events go through the worker's own RunIngestor, so summaries, metrics and histograms are
exactly what a worker would have written for the recorded logs in tests/fixtures/events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.config import config_from_dict, config_to_toml
from engine.protocol import decode
from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.store.models import Run, Worker

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"
NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


def add_run(
    store: Store,
    name: str,
    *,
    seed: int = 0,
    lr: float = 0.005,
    tags: list[str] | None = None,
    status: str = "queued",
    priority: int = 0,
    minutes_ago: float | None = None,
    **columns: Any,
) -> int:
    """Queue one run through `queue add`, then set what a worker would have (status, times)."""
    raw = {"run": {"name": name, "seed": seed, "tags": tags or []}, "train": {"crm_lr": lr}}
    config = config_from_dict(raw, f"{name}.toml")
    pending = PendingRun(Path(f"{name}.toml"), config, config_to_toml(config))
    (run_id,) = add_runs(store, [pending], priority=priority, force=True).added
    started = NOW - timedelta(minutes=minutes_ago) if minutes_ago is not None else None
    with store.write() as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.status, run.enqueued_at = status, NOW - timedelta(hours=1, seconds=-run_id)
        if started is not None:
            run.started_at, run.attempts = started, 1
        for key, value in columns.items():
            setattr(run, key, value)
    return run_id


def replay(store: Store, run_id: int, log: str, attempt: int = 1) -> None:
    """Feed a recorded engine log through the ingestor, as the worker does."""
    ingestor = RunIngestor(store, run_id, attempt)
    for line in (EVENTS / log).read_text(encoding="utf-8").splitlines():
        ingestor.add(decode(line))
    ingestor.flush()


def add_worker(store: Store, worker_id: str = "host-a:4242", seconds_ago: float = 3.0) -> None:
    with store.write() as session:
        session.add(
            Worker(
                id=worker_id,
                host="host-a",
                pid=4242,
                concurrency=2,
                started_at=NOW - timedelta(hours=2),
                heartbeat_at=NOW - timedelta(seconds=seconds_ago),
            )
        )


def fill(store: Store) -> dict[str, int]:
    """The standard test database: every status, two seeds of one config, two protocols."""
    ids: dict[str, int] = {}
    ids["base0"] = add_run(store, "sasrec-kd", seed=0, tags=["paper"], status="succeeded", minutes_ago=90,
                           finished_at=NOW - timedelta(minutes=88))  # fmt: skip
    replay(store, ids["base0"], "finished.jsonl")
    ids["base1"] = add_run(store, "sasrec-kd", seed=1, tags=["paper"], status="succeeded", minutes_ago=80,
                           finished_at=NOW - timedelta(minutes=78))  # fmt: skip
    replay(store, ids["base1"], "finished_seed1.jsonl")
    ids["failed"] = add_run(
        store,
        "sasrec-kd-hot",
        lr=0.05,
        status="failed",
        minutes_ago=30,
        finished_at=NOW - timedelta(minutes=29),
        failure_kind="exception",
        exit_code=1,
        error="FloatingPointError: KL divergence is NaN at step 23",
        worker_id="host-a:4242",
    )
    replay(store, ids["failed"], "failed.jsonl")
    ids["running"] = add_run(store, "sasrec-kd-lr01", lr=0.01, tags=["paper"], status="running", minutes_ago=2,
                             worker_id="host-a:4242", heartbeat_at=NOW)  # fmt: skip
    replay(store, ids["running"], "running.jsonl")
    ids["queued"] = add_run(store, "gru4rec-kd", lr=0.002, priority=0)
    ids["held"] = add_run(store, "gru4rec-kd-big", lr=0.001, status="held", priority=1)
    add_worker(store)
    return ids
