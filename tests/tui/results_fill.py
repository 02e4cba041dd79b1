"""A database for the Results screen: baselines, E4SRec, LLMD4Rec over two seeds with a
round curve, an ablation that loses to its baseline and a one-way run still running, all
through `queue add` and the worker's ingestor."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from engine.config import config_from_dict, config_to_toml
from engine.protocol import Eval, Event, RunFinished, RunStarted
from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.store.models import Run
from tests.tui.dbfill import NOW

TAG = "ml"
PROTOCOL = {"split": "leave-one-out", "ranking": "full", "ks": [5, 10, 20]}
START = NOW.timestamp() - 3600


def metrics(hr10: float) -> dict[str, float]:
    """All six metrics from one number, in the proportions a real run shows."""
    return {"hr@5": hr10 * 0.6, "hr@10": hr10, "hr@20": hr10 * 1.4,
            "ndcg@5": hr10 * 0.35, "ndcg@10": hr10 * 0.42, "ndcg@20": hr10 * 0.48}  # fmt: skip


def add(store: Store, name: str, seed: int, distill: dict[str, Any], status: str, events: list[Event]) -> int:
    raw = {"run": {"name": name, "seed": seed, "tags": [TAG]}, "distill": distill}
    config = config_from_dict(raw, f"{name}.toml")
    (run_id,) = add_runs(store, [PendingRun(Path(f"{name}.toml"), config, config_to_toml(config))], force=True).added
    with store.write() as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.status, run.started_at, run.attempts = status, NOW - timedelta(minutes=60 - run_id), 1
        if status == "succeeded":
            run.finished_at = NOW - timedelta(minutes=30 - run_id)
    ingestor = RunIngestor(store, run_id, 1)
    for event in [RunStarted(config_hash=config.hash(), protocol=PROTOCOL, ts=START), *events]:
        ingestor.add(event)
    ingestor.flush()
    return run_id


def eval_on_test(round_: int, model: str, hr10: float) -> Eval:
    return Eval(round=round_, model=model, split="test", metrics=metrics(hr10), ts=START + round_)


def baseline(model: str, hr10: float) -> list[Event]:
    return [eval_on_test(0, model, hr10), RunFinished(metrics={model: metrics(hr10)}, ts=START + 9)]


def mutual(crm: list[float], llm: list[float]) -> list[Event]:
    """Both models evaluated on test after every round; the last round is the final result."""
    evals: list[Event] = []
    for round_, (c, l_) in enumerate(zip(crm, llm, strict=True)):
        evals += [eval_on_test(round_, "crm", c), eval_on_test(round_, "llm", l_)]
    return [*evals, RunFinished(metrics={"crm": metrics(crm[-1]), "llm": metrics(llm[-1])}, ts=START + 9)]


def fill_results(store: Store) -> dict[str, int]:
    crm, llm, both = {"mode": "none", "model": "crm"}, {"mode": "none", "model": "llm"}, {"mode": "mutual"}
    ablation = {**both, "sample_weights": False}
    return {
        "sasrec0": add(store, "sasrec", 0, crm, "succeeded", baseline("crm", 0.30)),
        "sasrec1": add(store, "sasrec", 1, crm, "succeeded", baseline("crm", 0.31)),
        "e4srec0": add(store, "e4srec", 0, llm, "succeeded", baseline("llm", 0.28)),
        "llmd0": add(store, "llmd4rec", 0, both, "succeeded", mutual([0.30, 0.33, 0.34], [0.28, 0.29, 0.30])),
        "llmd1": add(store, "llmd4rec", 1, both, "succeeded", mutual([0.31, 0.34, 0.35], [0.28, 0.30, 0.30])),
        "wo_w0": add(store, "llmd4rec-wo-w", 0, ablation, "succeeded", mutual([0.30, 0.29, 0.29], [0.28, 0.28, 0.27])),
        "oneway0": add(store, "one-way", 0, {"mode": "one_way"}, "running", [eval_on_test(1, "crm", 0.32)]),
    }
