"""The user's own files named by data.path / data.item_path, and how to read them.

Formats: RecBole atomic files (``.inter`` with an optional ``.item``; a ``.item`` next to
the ``.inter`` with the same stem is picked up when data.item_path is empty) or a CSV of
user,item,timestamp with an optional item CSV. ``data.format = "auto"`` decides by suffix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.config import DataSection
from engine.data.build import InterColumns
from engine.data.errors import DataError
from engine.data.items import ItemColumns
from engine.data.sources import DataSource
from engine.data.tables import TableFormat

_SUFFIX_FORMATS: dict[str, TableFormat] = {".inter": "atomic", ".item": "atomic", ".tsv": "atomic", ".csv": "csv"}


@dataclass(frozen=True)
class UserFiles:
    inter: DataSource
    inter_format: TableFormat
    items: DataSource | None
    item_format: TableFormat
    inter_columns: InterColumns
    item_columns: ItemColumns


def user_files(section: DataSection) -> UserFiles:
    inter_path = Path(section.path).expanduser()
    if not inter_path.is_file():
        raise DataError(str(inter_path), "an existing interaction file (data.path)", value=section.path)
    inter_format = _format(inter_path, section.format, "data.format")
    item_path = _item_path(section, inter_path, inter_format)
    item_format = inter_format
    if item_path is not None:
        if not item_path.is_file():
            raise DataError(str(item_path), "an existing item file (data.item_path)", value=section.item_path)
        item_format = _SUFFIX_FORMATS.get(item_path.suffix.lower(), inter_format)
    return UserFiles(
        inter=DataSource(inter_path),
        inter_format=inter_format,
        items=DataSource(item_path) if item_path is not None else None,
        item_format=item_format,
        inter_columns=InterColumns(
            user=section.user_column,
            item=section.item_column,
            time=section.time_column,
            rating=section.rating_column,
        ),
        item_columns=ItemColumns(
            item=section.item_column,
            title=section.title_column,
            year=section.year_column,
            genre=section.genre_column,
        ),
    )


def _format(path: Path, configured: str, key: str) -> TableFormat:
    if configured == "atomic":
        return "atomic"
    if configured == "csv":
        return "csv"
    detected = _SUFFIX_FORMATS.get(path.suffix.lower())
    if detected is None:
        raise DataError(
            str(path), f"a .inter, .tsv or .csv file, or {key} set to 'atomic' or 'csv'", value=path.suffix or "(none)"
        )
    return detected


def _item_path(section: DataSection, inter_path: Path, inter_format: TableFormat) -> Path | None:
    if section.item_path:
        return Path(section.item_path).expanduser()
    sibling = inter_path.with_suffix(".item")
    if inter_format == "atomic" and sibling.is_file():
        return sibling
    return None
