"""Assemble a SequenceDataset from parsed tables: the shared path of built-in and user data."""

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
    inter_columns: InterColumns
    item_columns: ItemColumns
    options: Preprocessing

    def record(self, input_hashes: dict[str, str]) -> dict[str, Any]:
        """What the run records and the cache key hashes."""
        return {
            "dataset": self.name,
            **self.options.record(),
            "inter_columns": asdict(self.inter_columns),
            "item_columns": asdict(self.item_columns),
            "inputs": dict(sorted(input_hashes.items())),
        }

    def key(self, input_hashes: dict[str, str]) -> str:
        return cache_key(self.name, input_hashes, self.record(input_hashes))


def build_dataset(
    recipe: Recipe, inter: Table, items: Table | None, input_hashes: dict[str, str]
) -> tuple[SequenceDataset, Processed]:
    columns = recipe.inter_columns
    rating = columns.rating if recipe.options.min_rating is not None else None
    raw = interactions_from_table(inter, columns.user, columns.item, columns.time, rating)
    text = item_text_from_table(items, recipe.item_columns) if items is not None else None
    if text is not None and items is not None:
        _check_items_listed(inter, raw, items, text, columns.item)
    kept = filter_interactions(raw, recipe.options, inter.source.label)
    processed = order_and_remap(kept)
    record = recipe.record(input_hashes)
    record["raw"] = {"users": len(raw.user_names), "items": len(raw.item_names), "interactions": len(raw)}
    item_ids = processed.item_ids
    dataset = SequenceDataset(
        name=recipe.name,
        num_items=processed.num_items,
        sequences=processed.sequences(),
        item_text=[""] + [text.text[i] for i in item_ids[1:]] if text else [""] * len(item_ids),
        user_ids=processed.user_ids,
        item_ids=item_ids,
        fingerprint=recipe.key(input_hashes),
        preprocessing=record,
        item_genres=[""] + [text.genres[i] for i in item_ids[1:]] if text else [""] * len(item_ids),
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
