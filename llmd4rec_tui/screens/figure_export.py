"""Writing a screen's figure to a file (`runs plot` from the TUI): a notification names the
file, or says why there is no figure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual.screen import Screen

from llmd4rec_tui.figures.data import FigureError
from llmd4rec_tui.results import METRICS
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.figure_source import figure_source
from llmd4rec_tui.store.views import compare_inputs


def write_figure(screen: Screen[None], store: Store, kind: str, run_ids: Sequence[int], path: Path) -> bool:
    """The figure `llmd4rec runs plot KIND IDS --out PATH` draws (test NDCG@10)."""
    from llmd4rec_tui.figures.render import draw, figure_data, write

    try:
        with store.session() as session:
            source = figure_source(session, list(compare_inputs(session, list(run_ids))), "test", METRICS, kind)
        data = figure_data(kind, source, "ndcg@10")
        write(draw(data), data, path)
    except (FigureError, KeyError) as exc:
        screen.notify(f"no {kind} figure: {exc}", severity="warning")
        return False
    except OSError as exc:
        screen.notify(f"cannot write {path}: {exc.strerror or exc}", severity="error")
        return False
    screen.notify(f"wrote {path}")
    return True
