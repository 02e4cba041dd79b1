"""Assemble a SequenceDataset from parsed files: the shared path of built-in and user data.

Tables (atomic, CSV) are turned into interactions here; the other readers (sequences,
JSON review dumps) produce interactions themselves. Filtering, ordering, ids, the record
and the cache key are the same for all of them (``assemble``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.data.cache import cache_key
from engine.data.dataset import SequenceDataset
from engine.data.errors import DataError
from engine.data.interactions import Interactions, interactions_from_table
from engine.data.items import ItemColumns, ItemText, item_text_from_table
from engine.data.preprocess import Preprocessing, Processed, filter_interactions, order_and_remap
from engine.data.tables import Table


@dataclass(frozen=True)
class InterColumns:
    user: str
    item: str
    time: str
    rating: str


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the processed result, except the file contents."""

    name: str
    inter_columns: InterColumns | None  # None: the format fixes its fields (sequences, JSON dumps)
    item_columns: ItemColumns | None
    options: Preprocessing
    format: str = "atomic"

    def record(self, input_hashes: dict[str, str]) -> dict[str, Any]:
        """What the run records and the cache key hashes."""
        out: dict[str, Any] = {"dataset": self.name, "format": self.format, **self.options.record()}
        if self.inter_columns is not None:
            out["inter_columns"] = asdict(self.inter_columns)
        if self.item_columns is not None:
            out["item_columns"] = asdict(self.item_columns)
        out["inputs"] = dict(sorted(input_hashes.items()))
        return out

    def key(self, input_hashes: dict[str, str]) -> str:
        return cache_key(self.name, input_hashes, self.record(input_hashes))


def build_dataset(
    recipe: Recipe, inter: Table, items: Table | None, input_hashes: dict[str, str]
) -> tuple[SequenceDataset, Processed]:
    """A table format: every interacted item must be listed in the item table."""
    columns, item_columns = recipe.inter_columns, recipe.item_columns
    assert columns is not None and item_columns is not None, "a table recipe names its columns"
    rating = columns.rating if recipe.options.min_rating is not None else None
    raw = interactions_from_table(inter, columns.user, columns.item, columns.time, rating)
    text = item_text_from_table(items, item_columns) if items is not None else None
    if text is not None and items is not None:
        _check_items_listed(inter, raw, items, text, columns.item)
    return assemble(recipe, raw, text, inter.source.label, input_hashes)


def assemble(
    recipe: Recipe,
    raw: Interactions,
    text: ItemText | None,
    label: str,
    input_hashes: dict[str, str],
    extra: dict[str, Any] | None = None,
) -> tuple[SequenceDataset, Processed]:
    """Filter, order and remap ``raw``; items missing from ``text`` get empty text.
    ``extra`` adds what the reader found (e.g. the detected layout) to the record."""
    kept = filter_interactions(raw, recipe.options, label)
    processed = order_and_remap(kept)
    record = recipe.record(input_hashes)
    record.update(extra or {})
    record["raw"] = {"users": len(raw.user_names), "items": len(raw.item_names), "interactions": len(raw)}
    item_ids = processed.item_ids
    dataset = SequenceDataset(
        name=recipe.name,
        num_items=processed.num_items,
        sequences=processed.sequences(),
        item_text=[""] + [text.text.get(i, "") for i in item_ids[1:]] if text else [""] * len(item_ids),
        user_ids=processed.user_ids,
        item_ids=item_ids,
        fingerprint=recipe.key(input_hashes),
        preprocessing=record,
        item_genres=[""] + [text.genres.get(i, "") for i in item_ids[1:]] if text else [""] * len(item_ids),
        time_range=processed.time_range,
    )
    return dataset, processed


def _check_items_listed(inter: Table, raw: Interactions, items: Table, text: ItemText, column: str) -> None:
    """Every interacted item must appear in the item file; name the first line that fails."""
    missing = [code for code, name in enumerate(raw.item_names) if name not in text.text]
    if not missing:
        return
    first_row = int(np.flatnonzero(np.isin(raw.item, missing))[0])
    raise DataError(
        inter.source.label,
        f"an item id listed in {items.source.label} ({len(missing)} id(s) are not listed)",
        value=raw.item_names[int(raw.item[first_row])],
        line=first_row + 2,
        column=column,
    )
