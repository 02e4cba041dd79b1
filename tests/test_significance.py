"""Paired significance of gains, on constructed ranks whose answer is known."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from llmd4rec_tui.results import SIGNIFICANT, build_results, head_to_head, row_label, to_json, to_latex, to_markdown
from llmd4rec_tui.significance import paired_test, paired_values, per_user_value
from llmd4rec_tui.store.records import CompareInput

PROTOCOL = {"split": "leave-one-out", "ranking": "full", "dataset_hash": "abc"}


def test_per_user_values_follow_the_metric_definitions() -> None:
    assert per_user_value(1, "ndcg@10") == 1.0
    assert per_user_value(3, "ndcg@10") == pytest.approx(1 / math.log2(4))
    assert per_user_value(11, "ndcg@10") == 0.0
    assert per_user_value(10, "hr@10") == 1.0 and per_user_value(11, "hr@10") == 0.0


def test_identical_rankings_have_no_evidence_of_a_difference() -> None:
    ranks = {f"u{i}": i % 15 + 1 for i in range(200)}
    test = paired_test(*paired_values([ranks], [dict(ranks)], "ndcg@10"))
    assert test is not None
    assert test.p_value == 1.0 and test.ci95_low == test.ci95_high == 0.0 and not test.significant


def test_pairs_follow_user_ids_not_row_order() -> None:
    ours = {"a": 1, "b": 20, "c": 2}
    theirs = {"c": 2, "a": 1, "b": 20}  # the same ranks in another order
    a, b = paired_values([ours], [theirs], "hr@10")
    assert a.tolist() == b.tolist() == [1.0, 0.0, 1.0]


def test_a_consistent_gain_is_significant_and_its_interval_holds_the_true_gain() -> None:
    rng = np.random.default_rng(1)
    base = {f"u{i}": int(r) for i, r in enumerate(rng.integers(1, 30, 600))}
    better = {u: max(1, r - 3) for u, r in base.items()}  # every user moves up three places
    a, b = paired_values([better], [base], "ndcg@10")
    test = paired_test(a, b)
    assert test is not None and test.significant and test.p_value < 1e-6
    true_gain = a.mean() / b.mean() - 1
    assert test.ci95_low < true_gain < test.ci95_high and test.ci95_low > 0


def test_the_p_value_is_the_paired_t_test_by_hand() -> None:
    rng = np.random.default_rng(2)
    seeds_ours = [{f"u{i}": int(r) for i, r in enumerate(rng.integers(1, 15, 80))} for _ in range(2)]
    seeds_theirs = [{f"u{i}": int(r) for i, r in enumerate(rng.integers(1, 15, 80))} for _ in range(2)]
    a, b = paired_values(seeds_ours, seeds_theirs, "ndcg@10")
    assert len(a) == 160  # 80 users x 2 seeds
    diff = a - b
    t = diff.mean() / (diff.std(ddof=1) / math.sqrt(len(diff)))
    by_hand = 2 * stats.t.sf(abs(t), df=len(diff) - 1)
    test = paired_test(a, b)
    assert test is not None and test.p_value == pytest.approx(by_hand, rel=1e-9)


def test_noise_alone_is_rarely_significant() -> None:
    rng = np.random.default_rng(3)
    significant = 0
    for _ in range(40):
        ours = {f"u{i}": int(r) for i, r in enumerate(rng.integers(1, 20, 300))}
        theirs = {f"u{i}": int(r) for i, r in enumerate(rng.integers(1, 20, 300))}
        test = paired_test(*paired_values([ours], [theirs], "ndcg@10"))
        significant += bool(test and test.significant)
    assert significant <= 6  # about 5% of 40 expected; 6 leaves room for chance


def run(run_id: int, seed: int, metrics: dict[str, dict[str, float]], **config: Any) -> CompareInput:
    flat = {"crm.model": "sasrec", "distill.mode": "none", "distill.model": "crm", "run.seed": seed}
    flat.update({k.replace("__", "."): v for k, v in config.items()})
    return CompareInput(run_id, f"run{run_id}", "succeeded", seed, flat, PROTOCOL, metrics)


def metrics_of(ranks: dict[str, int]) -> dict[str, float]:
    values = list(ranks.values())
    return {m: sum(per_user_value(r, m) for r in values) / len(values) for m in ("ndcg@10", "hr@10")}


def test_gain_rows_carry_the_paired_test_in_every_export() -> None:
    rng = np.random.default_rng(4)
    runs, ranks = [], {}
    mutual = {"distill__mode": "mutual", "distill__rounds": 2}
    control = {**mutual, "distill__gamma": 0.0, "distill__beta": 0.0}
    for seed in (0, 1):
        base = {f"u{i}": int(r) for i, r in enumerate(rng.integers(1, 25, 300))}
        better = {u: max(1, r - 4) for u, r in base.items()}
        for run_id, config, crm in ((10 + seed, {}, base), (20 + seed, control, base), (30 + seed, mutual, better)):
            runs.append(run(run_id, seed, {"crm": metrics_of(crm), "llm": metrics_of(base)}, **config))
            ranks[run_id] = {"crm": crm, "llm": base}
    (table,) = build_results(runs, None, ranks)
    gains = {(g.method, g.baseline): g for g in table.gains}
    fair = gains[("LLMD4Rec_C", "SASRec, rounds w/o KD")]
    assert fair.fair and fair.tests["ndcg@10"].significant and fair.tests["ndcg@10"].pairs == 600
    assert table.gains[0].fair  # the fair comparison comes first
    same = gains[("LLMD4Rec_L", "E4SRec, rounds w/o KD")]
    assert same.tests["ndcg@10"].p_value == 1.0
    rows = to_json([table])
    for gain in json.loads(rows)[0]["gains"]:
        assert {"p_value", "ci95_low", "ci95_high"} <= set(gain) and gain["p_value"] is not None
    markdown = to_markdown([table])
    assert SIGNIFICANT in markdown and "paired t-test" in markdown
    latex = to_latex([table])
    assert r"$^\dagger$" in latex and "textbackslash" not in latex


def test_a_gain_without_stored_ranks_says_so_instead_of_a_p_value() -> None:
    runs = [run(1, 0, {"crm": {"ndcg@10": 0.1}}), run(2, 0, {"crm": {"ndcg@10": 0.12}}, distill__mode="one_way")]
    (table,) = build_results(runs)
    (gain,) = table.gains
    assert gain.tests == {} and "| - |" in to_markdown([table])
    assert json.loads(to_json([table]))[0]["gains"][0]["p_value"] is None


def test_latex_multi_seed_cells_print_plus_minus() -> None:
    runs = [run(1, 0, {"crm": {"ndcg@10": 0.1}}), run(2, 1, {"crm": {"ndcg@10": 0.12}})]
    latex = to_latex(build_results(runs))
    assert r"0.1100 $\pm$ 0.0141" in latex and "textbackslash" not in latex


def test_head_to_head_pairs_a_tuned_config_against_the_default_per_method() -> None:
    """A study's best trial rerun against the default config: both are LLMD4Rec rows, told
    apart by side, and each model's gain is paired over seeds and users."""
    rng = np.random.default_rng(5)
    tuned_runs, default_runs, ranks = [], [], {}
    mutual = {"distill__mode": "mutual", "distill__rounds": 2}
    for seed in (0, 1, 2):
        base = {f"u{i}": int(r) for i, r in enumerate(rng.integers(1, 25, 200))}
        better = {u: max(1, r - 5) for u, r in base.items()}
        default_runs.append(run(40 + seed, seed, {"crm": metrics_of(base), "llm": metrics_of(base)}, **mutual))
        tuned = {**mutual, "distill__beta": 0.3}
        tuned_runs.append(run(50 + seed, seed, {"crm": metrics_of(better), "llm": metrics_of(base)}, **tuned))
        ranks[40 + seed] = {"crm": base, "llm": base}
        ranks[50 + seed] = {"crm": better, "llm": base}
    (table,) = head_to_head(tuned_runs, default_runs, ranks, names=("best trial", "default"))
    labels = [row_label(row) for row in table.rows]
    assert labels == [
        "LLMD4Rec_C [best trial]",
        "LLMD4Rec_C [default]",
        "LLMD4Rec_L [best trial]",
        "LLMD4Rec_L [default]",
    ]
    gains = {g.method: g for g in table.gains}
    crm, llm = gains["LLMD4Rec_C [best trial]"], gains["LLMD4Rec_L [best trial]"]
    assert crm.baseline == "LLMD4Rec_C [default]" and crm.seeds == (0, 1, 2)
    assert crm.tests["ndcg@10"].significant and crm.tests["ndcg@10"].pairs == 600
    assert crm.relative["ndcg@10"] > 0
    assert llm.tests["ndcg@10"].p_value == 1.0 and llm.relative["ndcg@10"] == 0
    assert json.loads(to_json([table]))[0]["gains"][0]["p_value"] is not None


def test_head_to_head_refuses_two_configs_of_one_method_on_a_side() -> None:
    a = run(1, 0, {"crm": {"ndcg@10": 0.1}}, distill__mode="one_way")
    b = run(2, 0, {"crm": {"ndcg@10": 0.1}}, distill__mode="one_way", distill__beta=0.5)
    c = run(3, 0, {"crm": {"ndcg@10": 0.1}}, distill__mode="one_way")
    with pytest.raises(ValueError, match="tuned: runs of One-way"):
        head_to_head([a, b], [c])
