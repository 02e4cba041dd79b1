"""Item text for the LLM prompt: "Title (Year)" per item id, and the genres as a list.

Years are appended only when the title does not already end with them (ml-1m titles
carry the year, ml-100k titles do not). Genres come space-separated in atomic files
(``Animation Children's Comedy``) and ``|``-separated in MovieLens-style CSVs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.data.errors import DataError
from engine.data.tables import Table


@dataclass(frozen=True)
class ItemColumns:
    item: str
    title: str
    year: str
    genre: str


@dataclass(frozen=True)
class ItemText:
    """Text per original item id."""

    text: dict[str, str]
    genres: dict[str, str]


def item_text_from_table(table: Table, columns: ItemColumns) -> ItemText:
    ids = table.column(columns.item, "item ids; the name is set by data.item_column")
    titles = table.column(columns.title, "item titles; the name is set by data.title_column")
    years = table.columns.get(columns.year)
    genres = table.columns.get(columns.genre)
    text: dict[str, str] = {}
    genre_text: dict[str, str] = {}
    for index, item in enumerate(ids):
        if item in text:
            raise DataError(
                table.source.label, "each item id listed once", value=item, line=index + 2, column=columns.item
            )
        year = _year(years[index]) if years is not None else ""
        text[item] = title_with_year(titles[index].strip(), year)
        genre_text[item] = _genres(genres[index]) if genres is not None else ""
    return ItemText(text, genre_text)


def title_with_year(title: str, year: str) -> str:
    if not title or not year or title.endswith(f"({year})"):
        return title
    return f"{title} ({year})"


def _year(cell: str) -> str:
    """'1995', '1995.0' -> '1995'; anything else is kept as written."""
    cell = cell.strip()
    match = re.fullmatch(r"(\d{4})(?:\.0+)?", cell)
    return match.group(1) if match else cell


def _genres(cell: str) -> str:
    parts = cell.split("|") if "|" in cell else cell.split()
    return ", ".join(p.strip() for p in parts if p.strip())
