"""The run comparison: config diff, seeds grouped into mean ± std, best per column, deltas.

Pure functions over CompareInput records, shared by the Compare screen and
`llmd4rec runs compare`. Runs evaluated under different protocols (split, full or
sampled ranking, cut-offs) land in separate tables and are never ranked against each
other; each table shows the config keys that vary within it. Every metric here is a
ranking quality (HR, NDCG, MRR, ...), so higher is better.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from llmd4rec_tui.reporting import (
    MetricStat,
    best_indices,
    by_protocol,
    differing_keys,
    format_delta,
    format_stat,
    group_key,
    latex_escape,
    mean_std,
    plain,
)
from llmd4rec_tui.store.records import CompareInput

FORMATS = ("table", "csv", "md", "latex", "json")


@dataclass(frozen=True)
class CompareRow:
    """One config: a single run, or several runs that differ only in their seed."""

    label: str
    run_ids: tuple[int, ...]
    seeds: tuple[int, ...]
    config: dict[str, Any]
    stats: dict[str, MetricStat]
    deltas: dict[str, float] = field(default_factory=dict)
    is_baseline: bool = False


@dataclass(frozen=True)
class CompareTable:
    """The rows that share one evaluation protocol, and so may be ranked together."""

    protocol: str
    config_keys: tuple[str, ...]
    metric_keys: tuple[str, ...]
    rows: tuple[CompareRow, ...]
    best: dict[str, tuple[int, ...]]  # metric -> indices of the best rows

    def is_best(self, row_index: int, metric: str) -> bool:
        return row_index in self.best.get(metric, ())


@dataclass(frozen=True)
class Comparison:
    tables: tuple[CompareTable, ...]
    baseline_id: int | None


def _flat_metrics(run: CompareInput) -> dict[str, float]:
    return {f"{model}.{key}": value for model, values in run.metrics.items() for key, value in values.items()}


def _metric_order(key: str) -> tuple[str, str, int, str]:
    model, _, metric = key.partition(".")
    name, _, cutoff = metric.partition("@")
    return (model, name, int(cutoff) if cutoff.isdigit() else 0, metric)


def _build_rows(runs: list[CompareInput], config_keys: tuple[str, ...]) -> list[CompareRow]:
    groups: dict[str, list[CompareInput]] = {}
    for run in runs:
        groups.setdefault(group_key(run), []).append(run)
    rows = []
    for members in groups.values():
        per_metric: dict[str, list[float]] = {}
        for run in members:
            for key, value in _flat_metrics(run).items():
                per_metric.setdefault(key, []).append(value)
        names = sorted({run.name for run in members})
        label = names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"
        rows.append(
            CompareRow(
                label=label,
                run_ids=tuple(run.id for run in members),
                seeds=tuple(run.seed for run in members),
                config={k: members[0].config.get(k) for k in config_keys},
                stats={key: mean_std(values) for key, values in per_metric.items()},
            )
        )
    return rows


def _best(rows: list[CompareRow], metric_keys: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    best = {k: best_indices([row.stats[k].mean if k in row.stats else None for row in rows]) for k in metric_keys}
    return {k: indices for k, indices in best.items() if indices}


def _with_deltas(rows: list[CompareRow], baseline_id: int | None) -> list[CompareRow]:
    base = next((row for row in rows if baseline_id is not None and baseline_id in row.run_ids), None)
    if base is None:
        return rows
    out = []
    for row in rows:
        deltas = {k: s.mean - base.stats[k].mean for k, s in row.stats.items() if k in base.stats}
        out.append(
            CompareRow(row.label, row.run_ids, row.seeds, row.config, row.stats, deltas, is_baseline=row is base)
        )
    return out


def compare(runs: list[CompareInput] | tuple[CompareInput, ...], baseline_id: int | None = None) -> Comparison:
    """Split runs by protocol, group seeds, find the best per metric and the deltas."""
    runs = list(runs)
    if baseline_id is not None and baseline_id not in {run.id for run in runs}:
        raise ValueError(f"baseline run {baseline_id} is not among the compared runs")
    tables = []
    for protocol, members in by_protocol(runs).items():
        config_keys = differing_keys(members)  # what varies within this table
        rows = _with_deltas(_build_rows(members, config_keys), baseline_id)
        metric_keys = tuple(sorted({k for row in rows for k in row.stats}, key=_metric_order))
        tables.append(CompareTable(protocol, config_keys, metric_keys, tuple(rows), _best(rows, metric_keys)))
    return Comparison(tuple(tables), baseline_id)


# ---- formatting -------------------------------------------------------------------------


def _seeds(row: CompareRow) -> str:
    return ",".join(str(s) for s in row.seeds)


def _header(table: CompareTable, with_deltas: bool) -> list[str]:
    head = ["run", "ids", "seeds", *table.config_keys]
    for key in table.metric_keys:
        head.append(key)
        if with_deltas:
            head.append(f"Δ {key}")
    return head


def _cells(table: CompareTable, row: CompareRow, with_deltas: bool, pm: str) -> list[str]:
    cells = [row.label + (" (baseline)" if row.is_baseline else ""), ",".join(map(str, row.run_ids)), _seeds(row)]
    cells += [plain(row.config.get(k)) for k in table.config_keys]
    for key in table.metric_keys:
        cells.append(format_stat(row.stats.get(key), pm=pm))
        if with_deltas:
            cells.append(format_delta(row.deltas.get(key)))
    return cells


def _has_deltas(comparison: Comparison) -> bool:
    return any(row.deltas for table in comparison.tables for row in table.rows)


def to_csv(comparison: Comparison) -> str:
    """One line per group; mean, std and delta in their own columns for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    config_keys = sorted({k for t in comparison.tables for k in t.config_keys})
    metric_keys = sorted({k for t in comparison.tables for k in t.metric_keys}, key=_metric_order)
    head = ["protocol", "run", "ids", "seeds", "n", *config_keys]
    for key in metric_keys:
        head += [f"{key}_mean", f"{key}_std", f"{key}_delta", f"{key}_best"]
    writer.writerow(head)
    for table in comparison.tables:
        for index, row in enumerate(table.rows):
            n = max((s.n for s in row.stats.values()), default=len(row.run_ids))
            line = [table.protocol, row.label, " ".join(map(str, row.run_ids)), " ".join(map(str, row.seeds)), n]
            line += [plain(row.config.get(k)) for k in config_keys]
            for key in metric_keys:
                stat = row.stats.get(key)
                delta = row.deltas.get(key)
                line += [
                    "" if stat is None else repr(stat.mean),
                    "" if stat is None else repr(stat.std),
                    "" if delta is None else repr(delta),
                    int(table.is_best(index, key)),
                ]
            writer.writerow(line)
    return out.getvalue()


def to_markdown(comparison: Comparison) -> str:
    """One table per protocol; the best value per column in bold."""
    with_deltas = _has_deltas(comparison)
    parts = []
    for table in comparison.tables:
        head = _header(table, with_deltas)
        lines = [f"**Protocol:** {table.protocol}", "", "| " + " | ".join(head) + " |"]
        lines.append("|" + "|".join("---" for _ in head) + "|")
        for index, row in enumerate(table.rows):
            cells = _cells(table, row, with_deltas, " ± ")
            offset = 3 + len(table.config_keys)
            for j, key in enumerate(table.metric_keys):
                if table.is_best(index, key):
                    pos = offset + j * (2 if with_deltas else 1)
                    cells[pos] = f"**{cells[pos]}**"
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def to_latex(comparison: Comparison) -> str:
    """A booktabs tabular per protocol; best in \\textbf, seeds as $\\pm$ std."""
    with_deltas = _has_deltas(comparison)
    parts = []
    for table in comparison.tables:
        head = _header(table, with_deltas)
        text_columns = 3 + len(table.config_keys)
        lines = [
            f"% protocol: {latex_escape(table.protocol)}",
            r"\begin{tabular}{" + "l" * text_columns + "r" * (len(head) - text_columns) + "}",
            r"\toprule",
            " & ".join(latex_escape(h) for h in head) + r" \\",
            r"\midrule",
        ]
        for index, row in enumerate(table.rows):
            cells = [latex_escape(c) for c in _cells(table, row, with_deltas, " ± ")]
            offset = 3 + len(table.config_keys)
            for j, key in enumerate(table.metric_keys):
                if table.is_best(index, key):
                    pos = offset + j * (2 if with_deltas else 1)
                    cells[pos] = r"\textbf{" + cells[pos] + "}"
            lines.append(" & ".join(cells) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def to_json(comparison: Comparison) -> str:
    """Everything, unformatted, for scripts."""
    tables = []
    for table in comparison.tables:
        rows = []
        for index, row in enumerate(table.rows):
            rows.append(
                {
                    "label": row.label,
                    "run_ids": list(row.run_ids),
                    "seeds": list(row.seeds),
                    "baseline": row.is_baseline,
                    "config": row.config,
                    "metrics": {
                        k: {"mean": s.mean, "std": s.std, "n": s.n, "best": table.is_best(index, k)}
                        for k, s in row.stats.items()
                    },
                    "deltas": row.deltas,
                }
            )
        tables.append(
            {
                "protocol": table.protocol,
                "config_keys": list(table.config_keys),
                "metric_keys": list(table.metric_keys),
                "rows": rows,
            }
        )
    return json.dumps({"baseline": comparison.baseline_id, "tables": tables}, indent=2, default=str) + "\n"


EXPORTERS = {"csv": to_csv, "md": to_markdown, "latex": to_latex, "json": to_json}
