"""The user's own files named by data.path / data.item_path, and how to read them.

Formats: RecBole atomic files (``.inter`` with an optional ``.item``; a ``.item`` next to
the ``.inter`` with the same stem is picked up when data.item_path is empty), a CSV of
user,item,timestamp with an optional item CSV, a sequences file (``user item1 item2 ...``,
see engine.data.sequences) or a review dump (Amazon or Yelp JSON lines, see
engine.data.reviews). ``data.format = "auto"`` decides by suffix, after a ``.gz``: any of
these files may be gzipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.config import DataSection
from engine.data.build import InterColumns
from engine.data.errors import DataError
from engine.data.items import ItemColumns
from engine.data.sources import DataSource
from engine.data.tables import TableFormat

#: ``reviews``: a JSON-lines dump whose first record says whether it is Amazon or Yelp.
UserFormat = Literal["atomic", "csv", "sequences", "amazon", "yelp", "reviews"]
_CONFIGURED: tuple[UserFormat, ...] = ("atomic", "csv", "sequences", "amazon", "yelp")
_SUFFIX_FORMATS: dict[str, UserFormat] = {
    ".inter": "atomic",
    ".item": "atomic",
    ".tsv": "atomic",
    ".csv": "csv",
    ".txt": "sequences",
    ".json": "reviews",
    ".jsonl": "reviews",
}


@dataclass(frozen=True)
class UserFiles:
    inter: DataSource
    inter_format: UserFormat
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
    item_format: TableFormat = "csv" if inter_format == "csv" else "atomic"
    if item_path is not None:
        if not item_path.is_file():
            raise DataError(str(item_path), "an existing item file (data.item_path)", value=section.item_path)
        detected = _SUFFIX_FORMATS.get(_suffix(item_path))
        if detected == "atomic" or detected == "csv":
            item_format = detected
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


def dataset_name(path: Path) -> str:
    """The file name without its suffix (and without a .gz before it): reviews_Beauty_5."""
    name = path.name.removesuffix(".gz") if path.name.lower().endswith(".gz") else path.name
    return Path(name).stem


def _suffix(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix


def _format(path: Path, configured: str, key: str) -> UserFormat:
    for known in _CONFIGURED:
        if configured == known:
            return known
    detected = _SUFFIX_FORMATS.get(_suffix(path))
    if detected is None:
        raise DataError(
            str(path),
            f"a .inter, .tsv, .csv, .txt, .json or .jsonl file (optionally .gz), or {key} set to "
            "'atomic', 'csv', 'sequences', 'amazon' or 'yelp'",
            value=_suffix(path) or "(none)",
        )
    return detected


def _item_path(section: DataSection, inter_path: Path, inter_format: UserFormat) -> Path | None:
    if section.item_path:
        return Path(section.item_path).expanduser()
    sibling = inter_path.with_suffix(".item")
    if inter_format == "atomic" and sibling.is_file():
        return sibling
    return None
