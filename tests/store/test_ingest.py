"""Ingestion keeps metrics, histograms and the summary current, in batches, bad lines included."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.protocol import (
    BadLine,
    Checkpoint,
    Eval,
    PhaseStarted,
    RoundEnd,
    RunFinished,
    RunStarted,
    Step,
    Weights,
    decode,
)
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.store.models import EventRow, Histogram, Metric, Run, RunSummary
from llmd4rec_tui.store.queries import run_metrics
from tests.fixtures.queued import queue_runs, read_events, read_run


def _count(store: Store, table: type[EventRow] | type[Metric] | type[Histogram] | type[RunSummary], run_id: int) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(table.run_id == run_id)) or 0)


def test_events_become_metrics_histograms_and_a_current_summary(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)
    ingestor = RunIngestor(store, run_id, attempt=1, batch_size=1000, max_delay_s=3600)
    ingestor.add(RunStarted(config_hash="h", device="cpu", dataset={"fingerprint": "abc"}, protocol={"split": "loo"}))
    ingestor.add(PhaseStarted(round=1, model="llm", epochs=2))
    assert _count(store, EventRow, run_id) == 2  # milestones are written at once
    for step in range(3):
        losses = {"ce": 1.0 - step / 10, "total": 2.0 - step}
        ingestor.add(Step(round=1, model="llm", epoch=0, step=step, losses=losses))
    ingestor.add(Weights(round=1, model="llm", epoch=0, name="w1", edges=[0, 1, 2], counts=[5, 6], mean=1.1, std=0.3))
    ingestor.add(Eval(round=1, model="llm", split="test", metrics={"ndcg@10": 0.31, "hr@10": 0.5}))
    ingestor.add(BadLine("garbage", "not JSON"))
    assert _count(store, EventRow, run_id) == 2  # the rest waits for its batch
    ingestor.add(Checkpoint(round=1, model="llm", path="/runs/1/ckpt.pt"))
    assert _count(store, EventRow, run_id) == 9
    ingestor.add(RoundEnd(round=1, metrics={"crm": {"ndcg@10": 0.2}}))
    ingestor.flush()

    with store.session() as session:
        summary = session.get(RunSummary, run_id)
        run = session.get(Run, run_id)
        assert summary is not None and run is not None
        assert (summary.round, summary.phase, summary.epoch) == (1, "llm", 0)
        assert summary.last_losses == {"ce": 0.8, "total": 0.0}
        assert summary.loss_trail == [2.0, 1.0, 0.0]
        assert summary.llm_ndcg10 == 0.31 and summary.crm_ndcg10 == 0.2
        assert summary.metrics["llm"]["test"]["hr@10"] == 0.5
        assert (summary.events, summary.bad_lines) == (10, 1)
        assert run.last_checkpoint == "/runs/1/ckpt.pt"
        assert run.protocol == {"split": "loo"}
        assert run.environment["dataset_fingerprint"] == "abc" and run.environment["device"] == "cpu"
        histogram = session.scalars(select(Histogram).where(Histogram.run_id == run_id)).one()
        assert (histogram.kind, histogram.name, histogram.counts) == ("weights", "w1", [5, 6])
        train = run_metrics(session, run_id, split="train")
    assert [(m.step, m.value) for m in train if m.key == "total"] == [(0, 2.0), (1, 1.0), (2, 0.0)]
    bad = read_events(store, run_id, "bad_line")
    assert bad[0].payload == {"line": "garbage", "reason": "not JSON"}


def test_batches_flush_by_count_and_by_age(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)
    flushes: list[int] = []
    ingestor = RunIngestor(store, run_id, 1, batch_size=50, max_delay_s=3600, on_flush=lambda: flushes.append(1))
    for step in range(120):
        ingestor.add(Step(round=0, model="crm", epoch=0, step=step, losses={"total": 1.0}))
    assert len(flushes) == 2 and _count(store, EventRow, run_id) == 100
    aged = RunIngestor(store, run_id, 1, batch_size=10_000, max_delay_s=0.0)
    aged.add(Step(round=0, model="crm", epoch=0, step=999, losses={"total": 1.0}))
    assert _count(store, EventRow, run_id) == 101  # a batch older than max_delay_s goes out at once


def test_a_resumed_attempt_continues_the_summary(store: Store) -> None:
    (run_id,) = queue_runs(store, 1)
    first = RunIngestor(store, run_id, 1)
    first.add(Step(round=0, model="crm", epoch=0, step=0, losses={"total": 3.0}))
    first.flush()
    second = RunIngestor(store, run_id, 2)
    second.add(decode('{"v":1,"type":"step","round":0,"phase":"crm","epoch":0,"step":1,"losses":{"total":2.0}}'))
    second.add(RunFinished(metrics={"crm": {"ndcg@10": 0.4}}))
    second.flush()
    detail = read_run(store, run_id)
    assert detail is not None
    assert detail.run.events == 3 and detail.run.crm_ndcg10 == 0.4 and detail.run.progress == 1.0
    with store.session() as session:
        assert session.get(RunSummary, run_id).loss_trail == [3.0, 2.0]  # type: ignore[union-attr]
        attempts = session.scalars(select(EventRow.attempt).where(EventRow.run_id == run_id)).all()
    assert sorted(attempts) == [1, 2, 2]


def test_deleting_a_run_deletes_its_rows(store: Store) -> None:
    from llmd4rec_tui.queue.control import remove

    (run_id,) = queue_runs(store, 1)
    ingestor = RunIngestor(store, run_id, 1)
    ingestor.add(Eval(round=0, model="crm", split="test", metrics={"ndcg@10": 0.1}))
    ingestor.flush()
    assert _count(store, Metric, run_id) == 1
    remove(store, [run_id], statuses=("queued",))
    assert _count(store, Metric, run_id) == 0 and _count(store, EventRow, run_id) == 0
    assert _count(store, RunSummary, run_id) == 0


def test_an_attempt_starts_at_its_first_event_even_when_a_later_one_is_stamped_earlier(store: Store) -> None:
    """Engines before the replay fix sent cached round-0 events with the time another run
    trained them; the attempt history must not date the attempt back to then."""
    (run_id,) = queue_runs(store, 1)
    ingestor = RunIngestor(store, run_id, attempt=1, batch_size=1, max_delay_s=0)
    ingestor.add(RunStarted(config_hash="h", ts=2_000_000_000.0))
    ingestor.add(PhaseStarted(round=0, model="crm", epochs=2, ts=1_900_000_000.0))
    ingestor.add(RunFinished(metrics={}, seconds=1.0, ts=2_000_000_010.0))
    ingestor.flush()
    (attempt,) = read_run(store, run_id).history
    assert attempt.started_at is not None and attempt.started_at.timestamp() == 2_000_000_000.0
