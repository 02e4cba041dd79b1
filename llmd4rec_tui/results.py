"""The paper-style results table: one row per method (SASRec, E4SRec, one-way, LLMD4Rec_C,
LLMD4Rec_L and the ablations), mean ± std over seeds, the relative gains of the distilled
models over their own baselines, and the per-round curve of both models.

Pure functions over CompareInput records (plus per-round metrics and per-user ranks), so
the CLI, the TUI and the tests share them. Runs under different evaluation protocols go to
separate tables.

Which comparison is fair: a distilled row against the budget-matched no-KD control (the
same rounds, epochs and warm starts with gamma = beta = 0) tells what the teacher terms
are worth; against the model trained alone it also counts the extra training. Each gain
carries a paired significance test over users (llmd4rec_tui.significance) when the runs
stored their per-user ranks.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from llmd4rec_tui.reporting import (
    MetricStat,
    best_indices,
    by_protocol,
    differing_keys,
    format_stat,
    group_key,
    latex_escape,
    mean_std,
)
from llmd4rec_tui.significance import ALPHA, SIGNIFICANCE_METRICS, TEST_NAME, PairedTest, paired_test, paired_values
from llmd4rec_tui.store.records import CompareInput, PhaseEpochs

METRICS = ("hr@5", "hr@10", "hr@20", "ndcg@5", "ndcg@10", "ndcg@20")
CURVE_METRICS = ("hr@10", "ndcg@10")
CRM_NAMES = {"sasrec": "SASRec", "gru4rec": "GRU4Rec"}
FORMATS = ("table", "md", "csv", "latex", "json")
#: Label suffix of the control rows: mutual rounds with gamma = beta = 0.
NO_KD = ", rounds w/o KD"

#: round -> model -> metric -> value, of one run (test split, after each phase)
RoundMetrics = dict[int, dict[str, dict[str, float]]]
#: run id -> model -> user -> rank of the true item (final test evaluation)
UserRanks = dict[int, dict[str, dict[str, int]]]
#: The mark of a gain with p < ALPHA in Markdown and LaTeX, explained under the table.
SIGNIFICANT = "†"
FAIR_NOTE = (
    "The fair comparison is each distilled row against its ', rounds w/o KD' control (the same rounds, "
    "epochs and warm starts with gamma = beta = 0); the gain over the model alone also counts the extra training."
)


@dataclass(frozen=True)
class MethodRow:
    method: str
    model: str  # which model's metrics the row reports: crm or llm
    run_ids: tuple[int, ...]
    seeds: tuple[int, ...]
    stats: dict[str, MetricStat]
    variant: str = ""  # the config keys that set this group apart, when a method has several
    rounds: int = 0  # distillation rounds after round 0 (0 for a model trained alone)
    by_seed: dict[int, dict[str, float]] = field(default_factory=dict)  # seed -> metric -> mean of its runs
    run_by_seed: dict[int, int] = field(default_factory=dict)  # seed -> its first run (the one paired per user)


@dataclass(frozen=True)
class Gain:
    method: str
    baseline: str
    relative: dict[str, float]  # metric -> (method - baseline) / baseline
    seeds: tuple[int, ...] = ()  # the seeds both rows have, the only ones compared; () = none shared
    tests: dict[str, PairedTest] = field(default_factory=dict)  # metric -> paired test (when ranks exist)
    fair: bool = False  # over the budget-matched no-KD control

    def significant(self, metric: str) -> bool:
        test = self.tests.get(metric)
        return test is not None and test.significant


@dataclass(frozen=True)
class CurvePoint:
    round: int
    model: str
    stats: dict[str, MetricStat]
    variant: str = ""  # the config keys that set this group of mutual runs apart, when there are several


@dataclass(frozen=True)
class Convergence:
    """How one run's phases of the row's model ended: was the epoch cap binding?"""

    method: str
    seed: int
    run_id: int
    cap: int  # train.crm_epochs or train.llm_epochs
    phases: tuple[tuple[int, int, int], ...]  # (round, best epoch, epochs run)

    def binding(self) -> bool:
        """A best epoch at the cap: the phase might have improved further."""
        return any(best >= self.cap for _, best, _ in self.phases)


@dataclass(frozen=True)
class ResultsTable:
    protocol: str
    rows: tuple[MethodRow, ...]
    gains: tuple[Gain, ...]
    curve: tuple[CurvePoint, ...] = field(default_factory=tuple)
    convergence: tuple[Convergence, ...] = field(default_factory=tuple)


def methods_of(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(method label, model) pairs a run reports, from its flat resolved config."""
    crm = CRM_NAMES.get(str(config.get("crm.model")), str(config.get("crm.model")))
    mode = config.get("distill.mode", "none")
    if mode == "none":
        which = config.get("distill.model", "crm")
        out = []
        if which in ("crm", "both"):
            out.append((crm, "crm"))
        if which in ("llm", "both"):
            out.append(("E4SRec", "llm"))
        return out
    if mode == "one_way":
        return [(f"One-way LLM→{crm}", "crm")]
    if config.get("distill.gamma") == 0 and config.get("distill.beta") == 0:
        # The schedule without teacher terms: what the extra rounds alone are worth.
        return [(crm + NO_KD, "crm"), ("E4SRec" + NO_KD, "llm")]
    ablations = []
    if config.get("distill.rounds") == 1:
        ablations.append("w/o loop")
    if config.get("distill.sample_weights") is False:
        ablations.append("w/o w")
    if config.get("distill.refresh_embeddings") is False:
        ablations.append("w/o eu")
    suffix = (" " + ", ".join(ablations)) if ablations else ""
    base = "" if crm == "SASRec" else f" ({crm})"
    return [(f"LLMD4Rec_C{base}{suffix}", "crm"), (f"LLMD4Rec_L{base}{suffix}", "llm")]


def _variant_labels(groups: list[list[CompareInput]]) -> list[str]:
    """For groups sharing a method, the config values that tell them apart."""
    if len(groups) < 2:
        return [""] * len(groups)
    differing = differing_keys([g[0] for g in groups])
    return [", ".join(f"{k.split('.', 1)[-1]}={g[0].config.get(k)}" for k in differing) for g in groups]


def _method_rows(runs: list[CompareInput]) -> list[MethodRow]:
    by_method: dict[tuple[str, str], dict[str, list[CompareInput]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for method, model in methods_of(run.config):
            if model in run.metrics:
                by_method[(method, model)][group_key(run)].append(run)
    rows: list[MethodRow] = []
    for (method, model), groups in by_method.items():
        members = list(groups.values())
        for group, variant in zip(members, _variant_labels(members), strict=True):
            values: dict[str, list[float]] = defaultdict(list)
            for run in group:
                for metric, value in run.metrics[model].items():
                    values[metric].append(value)
            rows.append(
                MethodRow(
                    method=method,
                    model=model,
                    run_ids=tuple(r.id for r in group),
                    seeds=tuple(r.seed for r in group),
                    stats={m: mean_std(v) for m, v in values.items()},
                    variant=variant,
                    rounds=_rounds(group[0].config),
                    by_seed=_by_seed(group, model),
                    run_by_seed={seed: min(r.id for r in group if r.seed == seed) for seed in {r.seed for r in group}},
                )
            )
    return sorted(rows, key=_row_order)


def _by_seed(group: list[CompareInput], model: str) -> dict[int, dict[str, float]]:
    values: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in group:
        for metric, value in run.metrics[model].items():
            values[run.seed][metric].append(value)
    return {seed: {m: sum(v) / len(v) for m, v in metrics.items()} for seed, metrics in sorted(values.items())}


def _relative(row: MethodRow, base: MethodRow, ranks: UserRanks, fair: bool = False) -> Gain:
    """The gain over the seeds both rows ran (paired: a one-seed ablation is measured against
    the baseline's run with that seed, not against a three-seed mean); over all runs of each
    when they share no seed. With per-user ranks of every paired run, each SIGNIFICANCE_METRIC
    gets a paired test over (seed, user) pairs."""
    seeds = tuple(sorted(set(row.by_seed) & set(base.by_seed)))

    def mean(of: MethodRow, metric: str) -> float | None:
        if not seeds:
            return of.stats[metric].mean if metric in of.stats else None
        values = [of.by_seed[seed].get(metric) for seed in seeds]
        return None if any(v is None for v in values) else sum(v for v in values if v is not None) / len(values)

    relative = {}
    for metric in METRICS:
        ours, theirs = mean(row, metric), mean(base, metric)
        if ours is not None and theirs is not None and theirs > 0:
            relative[metric] = (ours - theirs) / theirs
    return Gain(row_label(row), row_label(base), relative, seeds, _tests(row, base, seeds, ranks), fair)


def _tests(row: MethodRow, base: MethodRow, seeds: tuple[int, ...], ranks: UserRanks) -> dict[str, PairedTest]:
    ours = [ranks.get(row.run_by_seed.get(seed, -1), {}).get(row.model) for seed in seeds]
    theirs = [ranks.get(base.run_by_seed.get(seed, -1), {}).get(base.model) for seed in seeds]
    if not seeds or any(r is None for r in ours) or any(r is None for r in theirs):
        return {}
    out = {}
    for metric in SIGNIFICANCE_METRICS:
        test = paired_test(*paired_values([r for r in ours if r], [r for r in theirs if r], metric))
        if test is not None:
            out[metric] = test
    return out


def _rounds(config: dict[str, Any]) -> int:
    return 0 if config.get("distill.mode", "none") == "none" else int(config.get("distill.rounds") or 0)


def _row_order(row: MethodRow) -> tuple[int, str, str]:
    """Baselines, their no-KD controls, one-way, LLMD4Rec, then the ablations."""
    name = row.method
    if name in CRM_NAMES.values():
        rank = 0
    elif name.endswith(NO_KD):
        rank = 3 if name.startswith("E4SRec") else 1
    elif name == "E4SRec":
        rank = 2
    elif name.startswith("LLMD4Rec"):
        rank = 5 if " w/o" not in name else 6
    else:
        rank = 4
    return (rank, name, row.variant)


def _gains(rows: list[MethodRow], ranks: UserRanks) -> list[Gain]:
    """Each distilled model against the same number of rounds without KD, when that control
    was run (the fair comparison, first; a single-round ablation is never measured against
    a two-round control); then each distilled CRM against its CRM alone and each distilled
    LLM against E4SRec."""
    singles = {r.method: r for r in rows if not r.variant}
    out = []
    for row in rows:
        if row.method.startswith("LLMD4Rec_L"):
            base_name = "E4SRec"
        elif row.method.startswith(("LLMD4Rec_C", "One-way")):
            base_name = next((n for n in CRM_NAMES.values() if n in row.method), "SASRec")
        else:
            continue
        controls = [r for r in rows if r.method == base_name + NO_KD and r.rounds == row.rounds]
        control = controls[0] if len(controls) == 1 else None
        if control is not None:
            out.append(_relative(row, control, ranks, fair=True))
        single = singles.get(base_name)
        if single is not None:
            out.append(_relative(row, single, ranks))
    return out


def gain_cell(gain: Gain, metric: str) -> str:
    """'+3.1%', with SIGNIFICANT appended when its paired test has p < ALPHA."""
    if metric not in gain.relative:
        return "-"
    return f"{gain.relative[metric] * 100:+.1f}%" + (SIGNIFICANT if gain.significant(metric) else "")


def p_cell(gain: Gain, metric: str = "ndcg@10") -> str:
    test = gain.tests.get(metric)
    return "-" if test is None else ("<0.001" if test.p_value < 0.001 else f"{test.p_value:.3f}")


def ci_cell(gain: Gain, metric: str = "ndcg@10") -> str:
    test = gain.tests.get(metric)
    return "-" if test is None else f"[{test.ci95_low * 100:+.1f}%, {test.ci95_high * 100:+.1f}%]"


#: Column heads of the gain tables beside the metrics, shared by every format.
GAIN_TEST_COLUMNS = ("p (ndcg@10)", "95% CI (ndcg@10)", "p (hr@10)")


def gain_test_cells(gain: Gain) -> list[str]:
    return [p_cell(gain), ci_cell(gain), p_cell(gain, "hr@10")]


def significance_note() -> str:
    """What the mark and the p-values mean; printed under every gain table."""
    return (
        f"{SIGNIFICANT}: p < {ALPHA} ({TEST_NAME}, on per-user NDCG@10 / HR@10; the mark is set on those two "
        "columns only). 95% CI: percentile bootstrap over the same pairs of the relative gain in NDCG@10. " + FAIR_NOTE
    )


def phases_cell(item: Convergence) -> str:
    """'r0 34/44, r1 3/13': per round, the best epoch / the epochs the phase ran."""
    return ", ".join(f"r{rnd} {best}/{ran}" for rnd, best, ran in item.phases)


CONVERGENCE_NOTE = (
    "Convergence: for each run, per round the best epoch (kept, chosen on validation NDCG@10) / "
    "the epochs its phase ran, against the epoch cap; a best epoch below the cap means the cap was not binding."
)


def seeds_label(gain: Gain) -> str:
    """'0,1,2' for a paired gain; 'unpaired' when the two rows share no seed."""
    return ",".join(map(str, gain.seeds)) if gain.seeds else "unpaired"


def _is_full_method(label: str) -> bool:
    """LLMD4Rec itself: not an ablation, not the no-KD control."""
    return label.startswith("LLMD4Rec_C") and " w/o" not in label


def _curve(runs: list[CompareInput], rounds: dict[int, RoundMetrics]) -> list[CurvePoint]:
    """Per-round test metrics of both models, averaged over the mutual runs without ablations,
    one curve per group of runs that differ only in their seed (a mean over different configs
    would mean nothing)."""
    groups: dict[str, list[CompareInput]] = defaultdict(list)
    for run in runs:
        if run.config.get("distill.mode") == "mutual" and _is_full_method(methods_of(run.config)[0][0]):
            groups[group_key(run)].append(run)
    members = list(groups.values())
    points = []
    for group, variant in zip(members, _variant_labels(members), strict=True):
        values: dict[tuple[int, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for run in group:
            for round_, models in rounds.get(run.id, {}).items():
                for model, metrics in models.items():
                    for metric in CURVE_METRICS:
                        if metric in metrics:
                            values[(round_, model)][metric].append(metrics[metric])
        points += [
            CurvePoint(round_, model, {m: mean_std(v) for m, v in metrics.items()}, variant)
            for (round_, model), metrics in sorted(values.items())
        ]
    return points


def curve_variants(curve: tuple[CurvePoint, ...]) -> dict[str, list[CurvePoint]]:
    """The curve's points per group of mutual runs, in the order the groups came."""
    out: dict[str, list[CurvePoint]] = {}
    for point in curve:
        out.setdefault(point.variant, []).append(point)
    return out


def _convergence(rows: list[MethodRow], runs: list[CompareInput], epochs: PhaseEpochs) -> list[Convergence]:
    by_id = {r.id: r for r in runs}
    out = []
    for row in rows:
        for run_id in row.run_ids:
            phases = sorted(
                (rnd, best, ran) for (rnd, model), (best, ran) in epochs.get(run_id, {}).items() if model == row.model
            )
            if phases:
                config = by_id[run_id].config
                cap = int(config.get(f"train.{row.model}_epochs") or 0)
                out.append(Convergence(row_label(row), by_id[run_id].seed, run_id, cap, tuple(phases)))
    return out


def build_results(
    runs: list[CompareInput],
    rounds: dict[int, RoundMetrics] | None = None,
    ranks: UserRanks | None = None,
    epochs: PhaseEpochs | None = None,
) -> list[ResultsTable]:
    tables = []
    # A run with no metrics yet has no row to add (nor a protocol).
    for protocol, members in by_protocol(run for run in runs if run.metrics).items():
        rows = _method_rows(members)
        gains = tuple(_gains(rows, ranks or {}))
        curve = tuple(_curve(members, rounds or {}))
        convergence = tuple(_convergence(rows, members, epochs or {}))
        tables.append(ResultsTable(protocol, tuple(rows), gains, curve, convergence))
    return tables


def head_to_head(
    ours: list[CompareInput],
    theirs: list[CompareInput],
    ranks: UserRanks | None = None,
    names: tuple[str, str] = ("tuned", "default"),
) -> list[ResultsTable]:
    """Two sets of runs of the same methods, e.g. a study's best trial rerun on test and the
    default config: one row per method and side (labelled by ``names``) and, for each
    method both sides ran, the gain of ``ours`` over ``theirs``, paired over the seeds both
    ran and over users like every gain. A side holding two configs of one method is a
    ValueError: which of them would be compared is not clear."""
    tables = []
    sides = {id(run): 0 for run in ours} | {id(run): 1 for run in theirs}
    for protocol, members in by_protocol(run for run in [*ours, *theirs] if run.metrics).items():
        rows_by_side: list[dict[tuple[str, str], MethodRow]] = [{}, {}]
        for side, name in enumerate(names):
            for row in _method_rows([run for run in members if sides[id(run)] == side]):
                key = (row.method, row.model)
                if key in rows_by_side[side]:
                    raise ValueError(f"{name}: runs of {row.method} with different configs ({row.variant})")
                rows_by_side[side][key] = replace(row, variant=name)
        gains = tuple(
            _relative(row, rows_by_side[1][key], ranks or {})
            for key, row in rows_by_side[0].items()
            if key in rows_by_side[1]
        )
        rows = tuple(row for side in rows_by_side for row in side.values())
        tables.append(ResultsTable(protocol, tuple(sorted(rows, key=_row_order)), gains))
    return tables


def best_means(table: ResultsTable) -> dict[str, float]:
    """metric -> the highest mean of any row: the cells the paper sets in bold (ties all bold)."""
    best: dict[str, float] = {}
    for metric in METRICS:
        means = [row.stats[metric].mean if metric in row.stats else None for row in table.rows]
        top = best_indices(means, min_rows=1)
        if top:
            best[metric] = table.rows[top[0]].stats[metric].mean
    return best


# ---- exports -----------------------------------------------------------------------------


def row_label(row: MethodRow) -> str:
    return row.method + (f" [{row.variant}]" if row.variant else "")


def _cells(row: MethodRow) -> list[str]:
    return [format_stat(row.stats.get(m)) for m in METRICS]


def to_markdown(tables: list[ResultsTable]) -> str:
    out = []
    for table in tables:
        out.append(f"**Protocol:** {table.protocol}\n")
        out.append("| method | runs | " + " | ".join(m.upper() for m in METRICS) + " |")
        out.append("|---|---|" + "---:|" * len(METRICS))
        for row in table.rows:
            out.append(f"| {row_label(row)} | {len(row.run_ids)} | " + " | ".join(_cells(row)) + " |")
        if table.gains:
            heads = [*METRICS, *GAIN_TEST_COLUMNS]
            out.append("\n| relative gain | over | seeds | " + " | ".join(heads) + " |")
            out.append("|---|---|---|" + "---:|" * len(heads))
            for gain in table.gains:
                cells = [gain_cell(gain, m) for m in METRICS] + gain_test_cells(gain)
                out.append(f"| {gain.method} | {gain.baseline} | {seeds_label(gain)} | " + " | ".join(cells) + " |")
            out.append("\n" + significance_note())
        if table.convergence:
            out.append("\n| convergence | seed | run | best / run per round | cap | cap binding |")
            out.append("|---|---:|---:|---|---:|---|")
            for item in table.convergence:
                binding = "yes" if item.binding() else "no"
                out.append(
                    f"| {item.method} | {item.seed} | {item.run_id} | {phases_cell(item)} | {item.cap} | {binding} |"
                )
            out.append("\n" + CONVERGENCE_NOTE)
        for variant, points in curve_variants(table.curve).items():
            out.append(f"\nper round: {variant}\n" if variant else "")
            out.append("| round | model | " + " | ".join(CURVE_METRICS) + " |")
            out.append("|---:|---|" + "---:|" * len(CURVE_METRICS))
            for point in points:
                cells = [format_stat(point.stats.get(m)) for m in CURVE_METRICS]
                out.append(f"| {point.round} | {point.model} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def to_csv(tables: list[ResultsTable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    stat_columns = [f"{m}_{part}" for m in METRICS for part in ("mean", "std")]
    writer.writerow(["protocol", "method", "variant", "model", "runs", "seeds", *stat_columns])
    for table in tables:
        for row in table.rows:
            values: list[str] = []
            for metric in METRICS:
                stat = row.stats.get(metric)
                values += [f"{stat.mean:.6f}", f"{stat.std:.6f}"] if stat else ["", ""]
            seeds = " ".join(map(str, row.seeds))
            writer.writerow([table.protocol, row.method, row.variant, row.model, len(row.run_ids), seeds, *values])
    return buffer.getvalue()


def to_latex(tables: list[ResultsTable]) -> str:
    out = []
    for table in tables:
        best = {m: best_indices([r.stats[m].mean if m in r.stats else None for r in table.rows], 1) for m in METRICS}
        out.append("% protocol: " + table.protocol)
        out.append(r"\begin{tabular}{l" + "r" * len(METRICS) + "}")
        out.append(r"\toprule")
        out.append("Method & " + " & ".join(m.upper() for m in METRICS) + r" \\")
        out.append(r"\midrule")
        for index, row in enumerate(table.rows):
            cells = []
            for m in METRICS:
                cell = latex_escape(format_stat(row.stats.get(m)))
                cells.append(r"\textbf{" + cell + "}" if index in best[m] else cell)
            out.append(latex_escape(row_label(row)) + " & " + " & ".join(cells) + r" \\")
        out.append(r"\bottomrule")
        out.append(r"\end{tabular}")
        if table.gains:
            out += _latex_gains(table.gains)
        out.append("")
    return "\n".join(out)


def _latex_gains(gains: tuple[Gain, ...]) -> list[str]:
    heads = ["Method", "Over", "Seeds", *(m.upper() for m in METRICS), *GAIN_TEST_COLUMNS]
    out = ["", r"\begin{tabular}{lll" + "r" * (len(METRICS) + len(GAIN_TEST_COLUMNS)) + "}", r"\toprule"]
    out.append(" & ".join(latex_escape(h) for h in heads) + r" \\")
    out.append(r"\midrule")
    for gain in gains:
        cells = [gain.method, gain.baseline, seeds_label(gain), *(gain_cell(gain, m) for m in METRICS)]
        cells += gain_test_cells(gain)
        out.append(" & ".join(latex_escape(c) for c in cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", "", "% " + significance_note()]
    return out


def to_json(tables: list[ResultsTable]) -> str:
    def stats(values: dict[str, MetricStat]) -> dict[str, Any]:
        return {m: {"mean": s.mean, "std": s.std, "n": s.n} for m, s in values.items()}

    return json.dumps(
        [
            {
                "protocol": t.protocol,
                "rows": [
                    {
                        "method": r.method,
                        "variant": r.variant,
                        "model": r.model,
                        "run_ids": list(r.run_ids),
                        "seeds": list(r.seeds),
                        "metrics": stats(r.stats),
                    }
                    for r in t.rows
                ],
                "gains": [_gain_json(g) for g in t.gains],
                "significance": significance_note(),
                "curve": [
                    {"round": p.round, "model": p.model, "variant": p.variant, "metrics": stats(p.stats)}
                    for p in t.curve
                ],
                "convergence": [
                    {
                        "method": c.method,
                        "seed": c.seed,
                        "run_id": c.run_id,
                        "cap": c.cap,
                        "cap_binding": c.binding(),
                        "phases": [{"round": r, "best_epoch": b, "epochs_run": n} for r, b, n in c.phases],
                    }
                    for c in t.convergence
                ],
            }
            for t in tables
        ],
        indent=2,
    )


def _gain_json(gain: Gain) -> dict[str, Any]:
    """p_value and ci95_* of the headline NDCG@10 at the top; every tested metric under tests."""
    head = gain.tests.get("ndcg@10")
    return {
        "method": gain.method,
        "baseline": gain.baseline,
        "fair": gain.fair,
        "seeds": list(gain.seeds),
        "relative": gain.relative,
        "p_value": None if head is None else head.p_value,
        "ci95_low": None if head is None else head.ci95_low,
        "ci95_high": None if head is None else head.ci95_high,
        "test": TEST_NAME,
        "tests": {
            m: {"p_value": t.p_value, "ci95_low": t.ci95_low, "ci95_high": t.ci95_high, "pairs": t.pairs}
            for m, t in gain.tests.items()
        },
    }


#: --format value -> exporter, shared by `runs results` and the Results screen's export keys.
EXPORTERS = {"md": to_markdown, "csv": to_csv, "latex": to_latex, "json": to_json}
