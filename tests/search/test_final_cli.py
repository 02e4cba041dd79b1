"""`llmd4rec search final`: the best trial's rerun against the default config's runs, per
method and paired over seeds and users, from a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from typer.testing import CliRunner

from engine.config import config_from_dict, config_to_toml
from engine.protocol import Eval, Ranks, RunFinished, RunStarted
from llmd4rec_tui.cli import app
from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
from llmd4rec_tui.search.tags import best_tag, study_tag, trial_tag
from llmd4rec_tui.significance import per_user_value
from llmd4rec_tui.store.db import Store, open_store
from llmd4rec_tui.store.ingest import RunIngestor
from llmd4rec_tui.store.models import Run

PROTOCOL = {"split": "leave-one-out", "ranking": "full", "ks": [5, 10, 20]}
USERS = [f"u{i}" for i in range(150)]


def finished(
    store: Store, seed: int, tag: str | list[str], beta: float, crm_ranks: list[int], llm_ranks: list[int]
) -> int:
    tags = [tag] if isinstance(tag, str) else tag
    raw: dict[str, Any] = {"run": {"seed": seed, "tags": tags}, "distill": {"mode": "mutual", "beta": beta}}
    config = config_from_dict(raw, "study.toml")
    (run_id,) = add_runs(store, [PendingRun(Path("study.toml"), config, config_to_toml(config))], force=True).added
    with store.write() as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.status, run.attempts = "succeeded", 1
    ingestor = RunIngestor(store, run_id, 1)
    ingestor.add(RunStarted(config_hash=config.hash(), protocol=PROTOCOL, ts=1.0))
    final: dict[str, dict[str, float]] = {}
    for model, ranks in (("crm", crm_ranks), ("llm", llm_ranks)):
        metrics = {m: float(np.mean([per_user_value(r, m) for r in ranks])) for m in ("ndcg@10", "hr@10")}
        final[model] = metrics
        ingestor.add(Eval(round=2, model=model, split="test", metrics=metrics, ts=2.0))
        items = ["i1"] * len(USERS)
        ingestor.add(Ranks(round=2, model=model, split="test", users=USERS, items=items, ranks=ranks))
    ingestor.add(RunFinished(metrics=final, ts=3.0))
    ingestor.flush()
    return run_id


def test_search_final_pairs_the_best_trial_against_the_default_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = open_store(url)
    rng = np.random.default_rng(0)
    default_ids = []
    for seed in (0, 1, 2):
        base = [int(r) for r in rng.integers(1, 30, len(USERS))]
        better = [max(1, r - 6) for r in base]
        default_ids.append(finished(store, seed, "defaults", 1.0, base, base))
        finished(store, seed, best_tag("ml"), 0.3, better, base)
    store.close()
    runner = CliRunner()
    done = runner.invoke(app, ["--db", url, "search", "final", "ml", "--against-tag", "defaults", "--format", "json"])
    assert done.exit_code == 0, done.output
    (table,) = json.loads(done.output)
    gains = {g["method"]: g for g in table["gains"]}
    crm = gains["LLMD4Rec_C [best trial]"]
    assert crm["baseline"] == "LLMD4Rec_C [against]" and crm["p_value"] < 0.05 and crm["ci95_low"] > 0
    assert gains["LLMD4Rec_L [best trial]"]["p_value"] == 1.0
    against = [arg for run_id in default_ids for arg in ("--against", str(run_id))]
    by_ids = runner.invoke(app, ["--db", url, "search", "final", "ml", *against])
    assert by_ids.exit_code == 0 and "best trial" in by_ids.output
    missing = runner.invoke(app, ["--db", url, "search", "final", "ml"])
    assert missing.exit_code == 2 and "--against" in missing.output


def test_search_final_refuses_a_side_with_two_configs_of_one_method(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = open_store(url)
    ranks = [5] * len(USERS)
    finished(store, 0, "defaults", 1.0, ranks, ranks)
    finished(store, 0, "defaults", 0.5, ranks, ranks)
    finished(store, 0, best_tag("ml"), 0.3, ranks, ranks)
    store.close()
    done = CliRunner().invoke(app, ["--db", url, "search", "final", "ml", "--against-tag", "defaults"])
    assert done.exit_code == 2 and "against: runs of LLMD4Rec_C with different configs (beta=" in done.output


def test_a_trial_run_stays_out_of_its_sets_results_unless_chosen_by_id_or_study(tmp_path: Path) -> None:
    """A trial carries its base config's tags: the set's table, figures and `search final
    --against-tag SET` leave it out (its test metrics are not a result), with a note."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = open_store(url)
    ranks = [5] * len(USERS)
    default = finished(store, 0, "set", 1.0, ranks, ranks)
    trial = finished(store, 0, ["set", study_tag("ml"), trial_tag("ml", 1)], 0.3, [1] * len(USERS), ranks)
    best = finished(store, 0, ["set", best_tag("ml")], 0.3, [2] * len(USERS), ranks)
    lone = finished(store, 1, ["lone", study_tag("other"), trial_tag("other", 2)], 0.5, ranks, ranks)
    store.close()
    runner = CliRunner()

    def results(*selection: str) -> list[list[int]]:
        done = runner.invoke(app, ["--db", url, "runs", "results", *selection, "--format", "json"])
        assert done.exit_code == 0, done.output
        (table,) = json.loads(done.stdout)
        return sorted(row["run_ids"] for row in table["rows"] if row["method"] == "LLMD4Rec_C")

    assert results("--tag", "set") == [[default], [best]]
    noted = runner.invoke(app, ["--db", url, "runs", "results", "--tag", "set", "--format", "json"])
    assert f"left out 1 search trial run(s) ({trial})" in noted.stderr
    assert results("--tag", study_tag("ml")) == [[trial]]
    assert results(str(default), str(trial)) == [[default], [trial]]
    only_trials = runner.invoke(app, ["--db", url, "runs", "results", "--tag", "lone"])
    message = " ".join(only_trials.output.split())
    assert only_trials.exit_code == 1, only_trials.output
    assert f"--tag 'lone': left out 1 search trial run(s) ({lone}), and no other run has it" in message
    final = runner.invoke(app, ["--db", url, "search", "final", "ml", "--against-tag", "set", "--format", "json"])
    assert final.exit_code == 0, final.output
    (table,) = json.loads(final.stdout)
    sides = {(row["method"], row["variant"]): row["run_ids"] for row in table["rows"]}
    assert sides[("LLMD4Rec_C", "against")] == [default] and sides[("LLMD4Rec_C", "best trial")] == [best]
