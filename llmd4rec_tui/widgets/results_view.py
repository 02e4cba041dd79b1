"""The results table on screen: per protocol the methods (best mean per metric in bold, as
in the paper), the relative gains (green up, red down) and the per-round curve."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static

from llmd4rec_tui.compare import format_stat
from llmd4rec_tui.results import (
    CURVE_METRICS,
    GAIN_TEST_COLUMNS,
    METRICS,
    CurvePoint,
    Gain,
    ResultsTable,
    best_means,
    curve_variants,
    gain_cell,
    gain_test_cells,
    seeds_label,
    significance_note,
)


def format_gain(gain: Gain, metric: str) -> Text:
    """'+12.3%' in green, '-4.0%' in red (with the significance mark), '-' where the
    baseline lacks the metric."""
    relative = gain.relative.get(metric)
    style = "" if not relative else ("green" if relative > 0 else "red")
    return Text(gain_cell(gain, metric), style=style, justify="right")


def _right(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


def _heads(*labels: str) -> list[Text]:
    """Numeric column titles right-aligned over their numbers."""
    return [Text(label, justify="right") for label in labels]


def method_grid(table: ResultsTable, number: int) -> DataTable[Text]:
    grid: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id=f"methods-{number}")
    grid.add_columns("method", *_heads("runs", *(m.upper() for m in METRICS)))
    best = best_means(table)
    for row in table.rows:
        label = row.method + (f" [{row.variant}]" if row.variant else "")
        cells = [Text(label), _right(str(len(row.run_ids)))]
        for metric in METRICS:
            stat = row.stats.get(metric)
            bold = stat is not None and stat.mean == best.get(metric)
            cells.append(_right(format_stat(stat), "bold" if bold else ""))
        grid.add_row(*cells)
    return grid


def gain_grid(gains: tuple[Gain, ...], number: int) -> DataTable[Text]:
    grid: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id=f"gains-{number}")
    grid.add_columns("method", "over", "seeds", *_heads(*(m.upper() for m in METRICS), *GAIN_TEST_COLUMNS))
    for gain in gains:
        cells = [format_gain(gain, m) for m in METRICS] + [_right(c) for c in gain_test_cells(gain)]
        grid.add_row(Text(gain.method), Text(gain.baseline), Text(seeds_label(gain)), *cells)
    return grid


def curve_grid(curve: list[CurvePoint], grid_id: str) -> DataTable[Text]:
    """One row per round, each model's curve metrics side by side, so a trend reads across."""
    models = sorted({p.model for p in curve})
    by_round: dict[int, dict[str, CurvePoint]] = {}
    for point in curve:
        by_round.setdefault(point.round, {})[point.model] = point
    grid: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id=grid_id)
    grid.add_columns(*_heads("round", *(f"{model} {m.upper()}" for model in models for m in CURVE_METRICS)))
    for round_, points in sorted(by_round.items()):
        cells = [_right(str(round_))]
        for model in models:
            stats = points[model].stats if model in points else {}
            cells += [_right(format_stat(stats.get(m))) for m in CURVE_METRICS]
        grid.add_row(*cells)
    return grid


def table_widgets(table: ResultsTable, number: int) -> list[Widget]:
    out: list[Widget] = [Static(Text(f"Protocol: {table.protocol}"), classes="protocol")]
    if not table.rows:
        out.append(Static("no test metrics yet in these runs", classes="note"))
        return out
    out.append(method_grid(table, number))
    if table.gains:
        caption = Static("relative gain (first the fair one: over the no-KD control)", classes="caption")
        note = Static(significance_note(), classes="caption")
        out += [caption, gain_grid(table.gains, number), note]
    for group, (variant, points) in enumerate(curve_variants(table.curve).items()):
        title = "per round (test, mutual runs" + (f": {variant})" if variant else ")")
        out += [Static(Text(title), classes="caption"), curve_grid(points, f"curve-{number}-{group}")]
    return out


class ResultsView(VerticalScroll):
    """Rebuilt only when the tables change, so a poll that finds nothing new draws nothing."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[ResultsTable, ...] | None = None
        self._empty: str | None = None

    async def show(self, tables: list[ResultsTable], empty: str) -> None:
        """The tables, or the empty-state message when there are none."""
        if tuple(tables) == self._shown and (bool(tables) or empty == self._empty):
            return
        self._shown, self._empty = tuple(tables), empty
        widgets: list[Widget] = [Static(Text(empty), classes="empty")] if not tables else []
        for number, table in enumerate(tables):
            widgets += table_widgets(table, number)
        with self.app.batch_update():
            await self.remove_children()
            await self.mount_all(widgets)
