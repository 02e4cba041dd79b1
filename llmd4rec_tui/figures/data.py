"""What a figure draws, as plain numbers: one Point per drawn value, CSV-ready."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

#: The CSV's columns, in Point's field order.
CSV_COLUMNS = ("panel", "series", "role", "x", "y", "err", "n")


class FigureError(ValueError):
    """The chosen runs cannot make this figure; the message says why and what to choose."""


@dataclass(frozen=True)
class Point:
    """One drawn value. role says how: line (mean, band = err), control (dashed line),
    reference (a horizontal line at y), bar (with err as its error bar), ridge (one bin
    of a distribution), boundary (a vertical line at x), cell (one heat-map cell)."""

    panel: str
    series: str
    role: str
    x: float | str
    y: float
    err: float = 0.0
    n: int = 1


@dataclass(frozen=True)
class FigureData:
    kind: str
    title: str
    xlabel: str
    ylabel: str
    caption: str  # the protocol, split, metric, runs and seeds: printed under the figure and in its metadata
    points: tuple[Point, ...] = field(default_factory=tuple)

    def panels(self) -> list[str]:
        return list(dict.fromkeys(p.panel for p in self.points))

    def in_panel(self, panel: str) -> list[Point]:
        return [p for p in self.points if p.panel == panel]

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for p in self.points:
            writer.writerow([p.panel, p.series, p.role, _number(p.x), _number(p.y), _number(p.err), p.n])
        return buffer.getvalue()


def series_of(points: Iterable[Point]) -> dict[str, list[Point]]:
    """Points by series, in the order the series first appear."""
    out: dict[str, list[Point]] = {}
    for p in points:
        out.setdefault(p.series, []).append(p)
    return out


def _number(value: float | str) -> str:
    return repr(float(value)) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
