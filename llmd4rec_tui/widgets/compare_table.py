"""The comparison on screen: one table per evaluation protocol, best per column in bold."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from llmd4rec_tui.compare import CompareTable, Comparison, format_delta, format_stat
from llmd4rec_tui.widgets.runs_table import plain


def table_cells(table: CompareTable, index: int, with_deltas: bool) -> list[Text]:
    row = table.rows[index]
    label = Text(row.label, style="bold yellow" if row.is_baseline else "")
    if row.is_baseline:
        label.append(" ⚑")
    cells = [label, plain(",".join(map(str, row.run_ids))), plain(",".join(map(str, row.seeds)))]
    cells += [plain(str(row.config.get(k))) for k in table.config_keys]
    for key in table.metric_keys:
        stat = row.stats.get(key)
        cells.append(Text(format_stat(stat), style="bold green" if table.is_best(index, key) else ""))
        if with_deltas:
            delta = row.deltas.get(key)
            style = "" if delta is None or delta == 0 else ("green" if delta > 0 else "red")
            cells.append(Text(format_delta(delta), style=style))
    return cells


class CompareView(VerticalScroll):
    """Rebuilt only when the comparison changes (new runs, baseline, finished metrics)."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: Comparison | None = None

    async def show(self, comparison: Comparison) -> None:
        if comparison == self._shown:
            return
        self._shown = comparison
        focused = next((t for t in self.query(DataTable) if t.has_focus), None)
        keep = (focused.id, focused.cursor_row) if focused is not None else None
        had_focus = self.has_focus_within or not self.screen.focused
        await self.remove_children()
        with_deltas = any(row.deltas for t in comparison.tables for row in t.rows)
        widgets: list[Static | DataTable[Text]] = []
        if not comparison.tables:
            widgets.append(Static("mark runs with space on the Runs screen, then press c"))
        for number, table in enumerate(comparison.tables):
            widgets.append(Static(Text(f"Protocol: {table.protocol}"), classes="protocol"))
            grid: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id=f"compare-{number}")
            head = ["run", "ids", "seeds", *table.config_keys]
            for key in table.metric_keys:
                head += [key, f"Δ {key}"] if with_deltas else [key]
            grid.add_columns(*head)
            for index, row in enumerate(table.rows):
                grid.add_row(*table_cells(table, index, with_deltas), key=",".join(map(str, row.run_ids)))
            widgets.append(grid)
        await self.mount_all(widgets)
        self._restore_focus(keep, had_focus)

    def _restore_focus(self, keep: tuple[str | None, int] | None, had_focus: bool) -> None:
        """The table the cursor was in keeps focus and row through a rebuild (a pinned
        baseline, a finished run), so the row `b` pins is always the one highlighted."""
        tables = list(self.query(DataTable))
        if not tables or not had_focus:
            return
        table = next((t for t in tables if keep is not None and t.id == keep[0]), tables[0])
        if keep is not None and table.id == keep[0]:
            table.move_cursor(row=min(keep[1], table.row_count - 1), animate=False)
        table.focus()

    def selected_run_id(self) -> int | None:
        """The first run of the row under the cursor in the focused (or first) table."""
        tables = list(self.query(DataTable))
        if not tables:
            return None
        focused = next((t for t in tables if t.has_focus), tables[0])
        if focused.row_count == 0:
            return None
        key = focused.coordinate_to_cell_key(focused.cursor_coordinate).row_key.value or ""
        return int(key.split(",")[0]) if key else None
