"""The comparison logic on hand-made runs, where every number can be checked by hand."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from llmd4rec_tui.compare import compare, to_csv, to_json, to_latex, to_markdown
from llmd4rec_tui.reporting import differing_keys, mean_std
from llmd4rec_tui.store.records import CompareInput

FULL = {"split": "leave-one-out", "ranking": "full"}
SAMPLED = {"split": "leave-one-out", "ranking": "sampled-100"}


def run(
    run_id: int, lr: float, seed: int, ndcg: float, protocol: dict[str, str] = FULL, /, **extra: object
) -> CompareInput:
    config = {"run.name": f"lr{lr}", "run.seed": seed, "train.crm_lr": lr, "crm.hidden_size": 64, **extra}
    return CompareInput(run_id, f"lr{lr}", "succeeded", seed, config, protocol, {"crm": {"ndcg@10": ndcg}})


def test_mean_std_uses_the_sample_deviation() -> None:
    stat = mean_std([0.10, 0.12, 0.14])
    assert stat.mean == pytest.approx(0.12)
    assert stat.std == pytest.approx(0.02)  # sqrt(((-.02)^2 + 0 + .02^2) / 2)
    assert mean_std([0.5]).std == 0.0


def test_only_keys_that_differ_are_shown_and_seed_is_not_one_of_them() -> None:
    runs = [run(1, 0.01, 0, 0.1), run(2, 0.02, 1, 0.2)]
    assert differing_keys(runs) == ("train.crm_lr",)


def test_a_key_missing_in_one_run_counts_as_different() -> None:
    runs = [run(1, 0.01, 0, 0.1), run(2, 0.01, 0, 0.2, **{"llm.rank": 8})]
    assert differing_keys(runs) == ("llm.rank",)


def test_seeds_of_one_config_are_grouped_into_mean_and_std() -> None:
    result = compare([run(1, 0.01, 0, 0.10), run(2, 0.01, 1, 0.14), run(3, 0.02, 0, 0.11)])
    (table,) = result.tables
    grouped = next(row for row in table.rows if row.run_ids == (1, 2))
    assert grouped.seeds == (0, 1)
    assert grouped.stats["crm.ndcg@10"].mean == pytest.approx(0.12)
    assert grouped.stats["crm.ndcg@10"].std == pytest.approx(math.sqrt(0.0008))
    assert grouped.stats["crm.ndcg@10"].n == 2


def test_best_is_the_highest_mean_and_ties_are_all_best() -> None:
    result = compare([run(1, 0.01, 0, 0.10), run(2, 0.02, 0, 0.30), run(3, 0.03, 0, 0.30)])
    (table,) = result.tables
    best_ids = {table.rows[i].run_ids[0] for i in table.best["crm.ndcg@10"]}
    assert best_ids == {2, 3}


def test_deltas_are_against_the_pinned_baselines_group_mean() -> None:
    result = compare([run(1, 0.01, 0, 0.10), run(2, 0.01, 1, 0.12), run(3, 0.02, 0, 0.15)], baseline_id=2)
    (table,) = result.tables
    base, other = table.rows
    assert base.is_baseline and not other.is_baseline
    assert base.deltas["crm.ndcg@10"] == pytest.approx(0.0)
    assert other.deltas["crm.ndcg@10"] == pytest.approx(0.15 - 0.11)


def test_a_baseline_that_is_not_compared_is_refused() -> None:
    with pytest.raises(ValueError, match="baseline run 9"):
        compare([run(1, 0.01, 0, 0.1)], baseline_id=9)


def test_runs_of_different_protocols_are_never_ranked_together() -> None:
    result = compare([run(1, 0.01, 0, 0.10), run(2, 0.02, 0, 0.50, SAMPLED), run(3, 0.03, 0, 0.20)], baseline_id=1)
    assert [len(t.rows) for t in result.tables] == [2, 1]
    full, sampled = result.tables
    assert "ranking=full" in full.protocol and "ranking=sampled-100" in sampled.protocol
    assert {full.rows[i].run_ids for i in full.best["crm.ndcg@10"]} == {(3,)}
    assert sampled.best == {}  # a lone row is not "best" of anything
    assert sampled.rows[0].deltas == {}  # the baseline lives in the other protocol


def test_csv_export_has_one_line_per_group_with_mean_std_delta_and_best() -> None:
    result = compare([run(1, 0.01, 0, 0.10), run(2, 0.01, 1, 0.14), run(3, 0.02, 0, 0.11)], baseline_id=3)
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert len(rows) == 2
    grouped = next(r for r in rows if r["ids"] == "1 2")
    assert float(grouped["crm.ndcg@10_mean"]) == pytest.approx(0.12)
    assert float(grouped["crm.ndcg@10_delta"]) == pytest.approx(0.01)
    assert grouped["crm.ndcg@10_best"] == "1"
    assert grouped["train.crm_lr"] == "0.01"


def test_markdown_bolds_the_best_and_shows_plus_minus() -> None:
    text = to_markdown(compare([run(1, 0.01, 0, 0.10), run(2, 0.01, 1, 0.14), run(3, 0.02, 0, 0.11)]))
    assert "**0.1200 ± 0.0283**" in text
    assert "| lr0.02 | 3 | 0 | 0.02 | 0.1100 |" in text


def test_latex_escapes_and_marks_the_best() -> None:
    text = to_latex(compare([run(1, 0.01, 0, 0.10), run(2, 0.02, 0, 0.30)]))
    assert r"\begin{tabular}{llllr}" in text
    assert r"train.crm\_lr" in text
    assert r"\textbf{0.3000}" in text
    assert text.count(r"\\") == 3  # header and two rows


def test_json_export_round_trips_every_number() -> None:
    data = json.loads(to_json(compare([run(1, 0.01, 0, 0.10), run(2, 0.01, 1, 0.14)], baseline_id=1)))
    (table,) = data["tables"]
    (row,) = table["rows"]
    assert row["run_ids"] == [1, 2] and row["baseline"] is True
    assert row["metrics"]["crm.ndcg@10"]["mean"] == pytest.approx(0.12)
    assert row["metrics"]["crm.ndcg@10"]["n"] == 2


def test_each_protocol_table_shows_the_keys_that_vary_within_it() -> None:
    """A mixed set: lr varies only among the full-ranking runs, hidden size only among the
    sampled ones; neither table shows a column that is constant within it."""
    runs = [run(1, 0.01, 0, 0.1), run(2, 0.02, 0, 0.2)]
    runs += [run(3, 0.01, 0, 0.3, SAMPLED, **{"crm.hidden_size": 32}), run(4, 0.01, 0, 0.4, SAMPLED)]
    full, sampled = compare(runs).tables
    assert (full.protocol, full.config_keys) == ("ranking=full, split=leave-one-out", ("train.crm_lr",))
    assert sampled.config_keys == ("crm.hidden_size",)
    head = to_csv(compare(runs)).splitlines()[0].split(",")
    assert head[5:7] == ["crm.hidden_size", "train.crm_lr"]  # the CSV's one header holds both tables' keys
