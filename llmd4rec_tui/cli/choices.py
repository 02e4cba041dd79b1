"""The fixed choices of --format options, as Enums: a bad value is Typer's usage error listing them."""

from __future__ import annotations

from enum import StrEnum

from llmd4rec_tui import compare, results


class CompareFormat(StrEnum):
    """`runs compare --format`, in the order of llmd4rec_tui.compare.FORMATS."""

    table = "table"
    csv = "csv"
    md = "md"
    latex = "latex"
    json = "json"


class ResultsFormat(StrEnum):
    """`runs results --format`, in the order of llmd4rec_tui.results.FORMATS."""

    table = "table"
    md = "md"
    csv = "csv"
    latex = "latex"
    json = "json"


class RanksFormat(StrEnum):
    """`runs ranks --format`."""

    csv = "csv"
    json = "json"


assert tuple(CompareFormat) == compare.FORMATS and tuple(ResultsFormat) == results.FORMATS
