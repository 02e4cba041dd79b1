"""Study files for tests: a base config on synthetic data and a study over distill.t1."""

from __future__ import annotations

from pathlib import Path

BASE = """
[run]
name = "fake base"
tags = ["fake"]
[data]
dataset = "synthetic"
[distill]
mode = "mutual"
rounds = 3
"""


def write_study(folder: Path, extra: str = "", n_trials: int = 4, parallelism: int = 1) -> Path:
    """Four trials over distill.t1, enqueued so the test knows their order: with the median
    pruner over the completed trials, only the third (t1 = 0.5) falls below it."""
    (folder / "base.toml").write_text(BASE)
    path = folder / "study.toml"
    path.write_text(
        f"""
[study]
name = "fake"
base = "base.toml"
n_trials = {n_trials}
seeds = [0]
parallelism = {parallelism}
metric = "ndcg@10"
model = "mean"
enqueue = [{{"distill.t1" = 2.0}}, {{"distill.t1" = 4.0}}, {{"distill.t1" = 0.5}}, {{"distill.t1" = 3.5}}]
pruner = {{kind = "median", startup_trials = 1, warmup_rounds = 1}}
{extra}
[space]
"distill.t1" = {{low = 0.1, high = 8.0, log = true}}
"""
    )
    return path
