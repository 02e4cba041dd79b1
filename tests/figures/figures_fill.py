"""A tiny database for every figure kind: the Results screen's runs (baselines, LLMD4Rec
over two seeds with a round curve, an ablation) plus sample weights and step losses of
the LLMD4Rec runs, and a sweep over distill.t1 with two seeds."""

from __future__ import annotations

from engine.protocol import Event, Step, Weights
from llmd4rec_tui.store.db import Store
from tests.tui.results_fill import START, add, baseline, fill_results, mutual

SWEEP_TAG = "t1-sweep"
EDGES = [0.0, 0.5, 1.0, 1.5, 2.0]


def training(seed: int) -> list[Event]:
    """Two rounds of both phases: step losses and one weights histogram per epoch."""
    events: list[Event] = []
    for round_ in (1, 2):
        for phase, name in (("llm", "w1"), ("crm", "w2")):
            for step in range(1, 4):
                losses = {"ce": 3.0 / step + round_, "kl": 0.5 / step, "wkl": 0.4 / step, "total": 4.0 / step}
                events.append(Step(round=round_, model=phase, epoch=1, step=step, losses=losses, ts=START + step))
            for epoch in (1, 2):
                counts = [1 + seed, 2 * epoch, 5, round_]
                events.append(
                    Weights(
                        round=round_, model=phase, epoch=epoch, name=name, edges=EDGES, counts=counts, mean=1.0, std=0.3
                    )
                )
    return events


def fill_figures(store: Store) -> dict[str, int]:
    ids = fill_results(store)
    both = {"mode": "mutual"}
    for seed in (0, 1):
        events = training(seed) + mutual([0.3 + seed / 100, 0.33, 0.34], [0.28, 0.29, 0.3])
        ids[f"trained{seed}"] = add(store, "llmd4rec-trained", seed, {**both, "t2": 3.0}, "succeeded", events)
    for t1 in (1.0, 2.0, 4.0):
        for seed in (0, 1):
            name = f"sweep-t1-{t1}-{seed}"
            ids[name] = add(
                store,
                name,
                seed,
                {"mode": "none", "t1": t1},
                "succeeded",
                baseline("crm", 0.2 + t1 / 100 + seed / 1000),
            )
    return ids
