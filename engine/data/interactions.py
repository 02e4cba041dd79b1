"""Interaction columns as arrays: integer codes for users and items, float times and ratings.

Original ids stay strings (ml-1m's item ids are movie titles); each is replaced by a code in
order of first appearance, and the distinct strings are kept once. Everything after this
(filters, sorting, remapping) is array work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.errors import DataError
from engine.data.tables import Table


@dataclass(frozen=True)
class Interactions:
    """One row per interaction, in file order (``row`` is the 0-based data row)."""

    user: np.ndarray  # int64 codes into user_names
    item: np.ndarray  # int64 codes into item_names
    time: np.ndarray  # float64
    rating: np.ndarray | None  # float64, only when a rating filter needs it
    row: np.ndarray  # int64 original row, the tie-break after time
    user_names: list[str]
    item_names: list[str]
    timed: bool = True  # False: no timestamps in the file (time is 0), file order is the order

    def subset(self, keep: np.ndarray) -> Interactions:
        return Interactions(
            self.user[keep],
            self.item[keep],
            self.time[keep],
            None if self.rating is None else self.rating[keep],
            self.row[keep],
            self.user_names,
            self.item_names,
            self.timed,
        )

    def __len__(self) -> int:
        return len(self.user)


def factorize(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes in order of first appearance, and the distinct values."""
    distinct = list(dict.fromkeys(values))
    index = {value: code for code, value in enumerate(distinct)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, distinct


def parse_numbers(table: Table, name: str, purpose: str) -> np.ndarray:
    """A numeric column as float64; the first unparsable cell names its line."""
    cells = table.column(name, purpose)
    try:
        values = np.asarray(cells, dtype=np.float64)
    except ValueError:
        values = np.array([_float_or_nan(cell) for cell in cells], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        index = int(bad[0])
        raise DataError(
            table.source.label, f"a finite number ({purpose})", value=cells[index], line=index + 2, column=name
        )
    return values


def _float_or_nan(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return float("nan")


def check_no_empty(table: Table, name: str, cells: list[str], purpose: str) -> None:
    """Ids must be present on every line."""
    if "" in cells:
        index = cells.index("")
        raise DataError(table.source.label, f"a non-empty {purpose}", value="", line=index + 2, column=name)


def interactions_from_table(
    table: Table, user_column: str, item_column: str, time_column: str, rating_column: str | None
) -> Interactions:
    users = table.column(user_column, "user ids; the name is set by data.user_column")
    items = table.column(item_column, "item ids; the name is set by data.item_column")
    check_no_empty(table, user_column, users, "user id")
    check_no_empty(table, item_column, items, "item id")
    time = parse_numbers(table, time_column, "timestamps, e.g. Unix seconds; the name is set by data.time_column")
    rating = (
        None
        if rating_column is None
        else parse_numbers(table, rating_column, "ratings for data.min_rating; the name is set by data.rating_column")
    )
    return interactions_from_lists(users, items, time, rating)


def interactions_from_lists(
    users: list[str], items: list[str], time: np.ndarray, rating: np.ndarray | None, timed: bool = True
) -> Interactions:
    """Interactions from checked, file-ordered id lists and times (row = position in the lists)."""
    user_codes, user_names = factorize(users)
    item_codes, item_names = factorize(items)
    rows = np.arange(len(users), dtype=np.int64)
    return Interactions(user_codes, item_codes, time, rating, rows, user_names, item_names, timed)
