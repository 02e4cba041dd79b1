"""The paper-style results table: method labels, seed grouping, gains, round curve, exports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmd4rec_tui.results import best_means, build_results, methods_of, to_csv, to_json, to_latex, to_markdown
from llmd4rec_tui.store.records import CompareInput

PROTOCOL = {"split": "leave-one-out", "ranking": "full", "dataset_hash": "abc"}


def run(run_id: int, seed: int, metrics: dict[str, dict[str, float]], **config: Any) -> CompareInput:
    flat = {"crm.model": "sasrec", "distill.mode": "none", "distill.model": "crm", "run.seed": seed}
    flat.update({k.replace("__", "."): v for k, v in config.items()})
    return CompareInput(run_id, f"run{run_id}", "succeeded", seed, flat, PROTOCOL, metrics)


def m(value: float) -> dict[str, float]:
    return {"hr@10": value, "ndcg@10": value / 2, "hr@20": value * 1.5}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"distill.mode": "none", "distill.model": "crm", "crm.model": "sasrec"}, [("SASRec", "crm")]),
        ({"distill.mode": "none", "distill.model": "llm", "crm.model": "sasrec"}, [("E4SRec", "llm")]),
        ({"distill.mode": "one_way", "crm.model": "gru4rec"}, [("One-way LLM→GRU4Rec", "crm")]),
        (
            {"distill.mode": "mutual", "crm.model": "sasrec", "distill.rounds": 2},
            [("LLMD4Rec_C", "crm"), ("LLMD4Rec_L", "llm")],
        ),
        (
            {"distill.mode": "mutual", "crm.model": "sasrec", "distill.rounds": 1, "distill.sample_weights": False},
            [("LLMD4Rec_C w/o loop, w/o w", "crm"), ("LLMD4Rec_L w/o loop, w/o w", "llm")],
        ),
    ],
)
def test_method_labels(config: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert methods_of(config) == expected


def test_seeds_group_into_mean_and_std_and_gains_are_relative() -> None:
    runs = [
        run(1, 0, {"crm": m(0.10)}),
        run(2, 1, {"crm": m(0.20)}),
        run(3, 0, {"crm": m(0.05), "llm": m(0.20)}, distill__model="llm"),
        run(4, 0, {"crm": m(0.18), "llm": m(0.25)}, distill__mode="mutual", distill__rounds=2),
        run(5, 1, {"crm": m(0.12), "llm": m(0.25)}, distill__mode="mutual", distill__rounds=2),
    ]
    rounds = {4: {0: {"crm": {"ndcg@10": 0.05}}, 1: {"crm": {"ndcg@10": 0.07}}}, 5: {0: {"crm": {"ndcg@10": 0.07}}}}
    (table,) = build_results(runs, rounds)
    rows = {r.method: r for r in table.rows}
    assert list(rows) == ["SASRec", "E4SRec", "LLMD4Rec_C", "LLMD4Rec_L"]
    assert rows["SASRec"].run_ids == (1, 2) and rows["SASRec"].stats["hr@10"].mean == pytest.approx(0.15)
    assert rows["SASRec"].stats["hr@10"].std == pytest.approx(0.0707106, rel=1e-4)
    gains = {g.method: g for g in table.gains}
    assert gains["LLMD4Rec_C"].baseline == "SASRec"
    assert gains["LLMD4Rec_C"].relative["hr@10"] == pytest.approx(0.0)  # 0.15 vs 0.15
    assert gains["LLMD4Rec_L"].relative["hr@10"] == pytest.approx(0.25)  # 0.25 vs 0.20
    curve = {(p.round, p.model): p.stats["ndcg@10"] for p in table.curve}
    assert curve[(0, "crm")].mean == pytest.approx(0.06) and curve[(0, "crm")].n == 2
    assert curve[(1, "crm")].n == 1


def test_the_no_kd_control_gets_its_own_rows_and_gains_but_no_curve() -> None:
    no_kd = {"distill__mode": "mutual", "distill__rounds": 2, "distill__gamma": 0.0, "distill__beta": 0.0}
    mutual = {"distill__mode": "mutual", "distill__rounds": 2, "distill__gamma": 1.0, "distill__beta": 1.0}
    runs = [
        run(1, 0, {"crm": m(0.10)}),
        run(2, 0, {"crm": m(0.10), "llm": m(0.20)}, distill__model="llm"),
        run(3, 0, {"crm": m(0.16), "llm": m(0.25)}, **no_kd),
        run(4, 0, {"crm": m(0.20), "llm": m(0.30)}, **mutual),
    ]
    rounds = {3: {1: {"crm": {"ndcg@10": 0.5}}}, 4: {1: {"crm": {"ndcg@10": 0.1}}}}
    (table,) = build_results(runs, rounds)
    assert [r.method for r in table.rows] == [
        "SASRec",
        "SASRec, rounds w/o KD",
        "E4SRec",
        "E4SRec, rounds w/o KD",
        "LLMD4Rec_C",
        "LLMD4Rec_L",
    ]
    gains = {(g.method, g.baseline): g.relative["hr@10"] for g in table.gains}
    assert gains == {
        ("LLMD4Rec_C", "SASRec"): pytest.approx(1.0),
        ("LLMD4Rec_C", "SASRec, rounds w/o KD"): pytest.approx(0.25),
        ("LLMD4Rec_L", "E4SRec"): pytest.approx(0.5),
        ("LLMD4Rec_L", "E4SRec, rounds w/o KD"): pytest.approx(0.2),
    }
    assert [(p.round, p.stats["ndcg@10"].mean) for p in table.curve] == [(1, 0.1)]  # the control stays out
    single_round = run(5, 0, {"crm": m(0.12), "llm": m(0.22)}, **{**mutual, "distill__rounds": 1})
    (table,) = build_results([*runs, single_round])
    baselines = [g.baseline for g in table.gains if "w/o loop" in g.method]
    assert baselines == ["SASRec", "E4SRec"]  # never the R-round control
    one_round_control = run(6, 0, {"crm": m(0.15), "llm": m(0.24)}, **{**no_kd, "distill__rounds": 1})
    (table,) = build_results([*runs, single_round, one_round_control])
    gains = {(g.method, g.baseline): g.relative["hr@10"] for g in table.gains}
    assert gains[("LLMD4Rec_C w/o loop", "SASRec, rounds w/o KD [rounds=1]")] == pytest.approx(-0.2)  # 0.12 vs 0.15
    assert gains[("LLMD4Rec_C", "SASRec, rounds w/o KD [rounds=2]")] == pytest.approx(0.25)  # still the 2-round control


def test_runs_without_metrics_yet_add_no_table() -> None:
    waiting = CompareInput(2, "queued", "queued", 0, {"distill.mode": "none"}, {}, {})
    tables = build_results([run(1, 0, {"crm": m(0.1)}), waiting])
    assert len(tables) == 1 and tables[0].rows[0].run_ids == (1,)


def test_runs_under_different_protocols_get_separate_tables() -> None:
    a = run(1, 0, {"crm": m(0.1)})
    b = CompareInput(2, "b", "succeeded", 0, dict(a.config), {**PROTOCOL, "ranking": "sampled"}, {"crm": m(0.3)})
    tables = build_results([a, b])
    assert len(tables) == 2 and all(len(t.rows) == 1 for t in tables)


def test_exports_carry_every_row() -> None:
    runs = [run(1, 0, {"crm": m(0.1)}), run(2, 0, {"crm": m(0.2), "llm": m(0.3)}, distill__mode="mutual")]
    tables = build_results(runs)
    assert "| LLMD4Rec_L |" in to_markdown(tables)
    assert to_csv(tables).count("\n") == 1 + 3
    assert r"LLMD4Rec\_C" in to_latex(tables) and r"\textbf{" in to_latex(tables)
    assert {r["method"] for r in json.loads(to_json(tables))[0]["rows"]} == {"SASRec", "LLMD4Rec_C", "LLMD4Rec_L"}


def test_best_means_are_the_highest_mean_per_metric_and_skip_missing_ones() -> None:
    runs = [
        run(1, 0, {"crm": m(0.10)}),
        run(2, 0, {"crm": m(0.05), "llm": {"hr@10": 0.30}}, distill__model="llm"),
        run(3, 0, {"crm": m(0.20), "llm": {"hr@10": 0.30}}, distill__mode="mutual"),
    ]
    (table,) = build_results(runs)
    best = best_means(table)
    assert best == {"hr@10": pytest.approx(0.30), "ndcg@10": pytest.approx(0.10), "hr@20": pytest.approx(0.30)}
    bold = [r.method for r in table.rows if r.stats["hr@10"].mean == best["hr@10"]]
    assert bold == ["E4SRec", "LLMD4Rec_L"]  # a tie: both in bold, as to_latex does


def test_gains_are_paired_over_the_seeds_both_rows_ran() -> None:
    mutual = {"distill__mode": "mutual", "distill__rounds": 2}
    ablation = {**mutual, "distill__sample_weights": False}
    runs = [
        run(1, 0, {"crm": m(0.10)}),
        run(2, 1, {"crm": m(0.20)}),
        run(3, 2, {"crm": m(0.30)}),
        run(4, 0, {"crm": m(0.12), "llm": m(0.2)}, **mutual),
        run(5, 1, {"crm": m(0.22), "llm": m(0.2)}, **mutual),
        run(6, 0, {"crm": m(0.11), "llm": m(0.2)}, **ablation),  # one seed, like a paper's ablation
        run(7, 5, {"crm": m(0.40), "llm": m(0.2)}, **{**ablation, "distill__refresh_embeddings": False}),
    ]
    (table,) = build_results(runs)
    gains = {(g.method, g.baseline): g for g in table.gains}
    full = gains[("LLMD4Rec_C", "SASRec")]
    assert full.seeds == (0, 1) and full.relative["hr@10"] == pytest.approx((0.17 - 0.15) / 0.15)
    one_seed = gains[("LLMD4Rec_C w/o w", "SASRec")]
    assert one_seed.seeds == (0,) and one_seed.relative["hr@10"] == pytest.approx(0.1)  # not vs the 0.20 mean
    unpaired = gains[("LLMD4Rec_C w/o w, w/o eu", "SASRec")]
    assert unpaired.seeds == () and unpaired.relative["hr@10"] == pytest.approx(1.0)  # 0.40 vs the 0.20 mean
    assert "| LLMD4Rec_C w/o w | SASRec | 0 | " in to_markdown([table])
    assert "| LLMD4Rec_C w/o w, w/o eu | SASRec | unpaired | " in to_markdown([table])
    exported = {(g["method"], g["baseline"]): g["seeds"] for g in json.loads(to_json([table]))[0]["gains"]}
    assert exported[("LLMD4Rec_C", "SASRec")] == [0, 1]


def test_latex_escapes_every_special_in_a_label_and_keeps_pm_as_math() -> None:
    """A method label with $ { } ^ ~ was written raw into LaTeX (the compare export escaped them)."""
    name = "sas$rec{x}^~"
    runs = [run(1, 0, {"crm": m(0.2)}, crm__model=name), run(2, 1, {"crm": m(0.3)}, crm__model=name)]
    latex = to_latex(build_results(runs))
    assert r"sas\$rec\{x\}\textasciicircum{}\textasciitilde{}" in latex and "sas$rec" not in latex
    assert r"0.2500 $\pm$ 0.0707" in latex
