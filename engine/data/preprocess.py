"""Filters, chronological order and id remapping: interactions in, flat sequences out.

The rules, in order (recorded with every dataset so a run says what it trained on):

1. ``time_min`` / ``time_max``: keep interactions with ``time_min <= time <= time_max``
   (both inclusive, Unix seconds, off by default); ``min_rating``: keep interactions rated
   at least this (off by default).
2. Iterated k-core: drop users with fewer than ``max(user_core, min_seq_len)``
   interactions and items with fewer than ``item_core``; repeat until nothing changes,
   because dropping one side can push the other below its threshold. ``min_seq_len``
   (at least 3: one training item, a validation and a test target) is part of the user
   threshold, so users too short for a leave-one-out split are dropped, never padded.
3. Order: each user's interactions by timestamp, ties by original file row (stable, so
   the same files always give the same sequences). Files without timestamps (the
   sequences format) are in file order.
4. Ids: users 0..U-1 and items 1..I (0 is padding), both in natural order of the original
   id strings ("2" before "10", "1m_2" before "1m_10"); items never interacted with after
   filtering get no id.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine.data.errors import DataError
from engine.data.interactions import Interactions

TIE_BREAK = "timestamp, then original file row"


@dataclass(frozen=True)
class Preprocessing:
    min_rating: float | None = None
    time_min: float | None = None
    time_max: float | None = None
    user_core: int = 0
    item_core: int = 0
    min_seq_len: int = 3

    def record(self) -> dict[str, Any]:
        return {**asdict(self), "tie_break": TIE_BREAK}

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())


@dataclass(frozen=True)
class Processed:
    """Sequences as one flat array of item ids plus user offsets (what the cache stores)."""

    items: np.ndarray  # int64 item ids 1..num_items, user by user in time order
    offsets: np.ndarray  # int64 [U + 1]; user u's items are items[offsets[u]:offsets[u+1]]
    user_ids: list[str]  # original id per user index
    item_ids: list[str]  # original id per item id; item_ids[0] == ""
    time_range: tuple[float, float] | None  # None when the files carry no timestamps

    @property
    def num_items(self) -> int:
        return len(self.item_ids) - 1

    def sequences(self) -> list[np.ndarray]:
        return np.split(self.items, self.offsets[1:-1]) if len(self.offsets) > 1 else []


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders embedded numbers by value ("item2" < "item10")."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


def filter_interactions(data: Interactions, options: Preprocessing, label: str) -> Interactions:
    """Apply the time window, the rating threshold and the iterated user/item thresholds."""
    if options.time_min is not None:
        data = data.subset(data.time >= options.time_min)
    if options.time_max is not None:
        data = data.subset(data.time <= options.time_max)
    if options.min_rating is not None:
        assert data.rating is not None, "ratings must be parsed when min_rating is set"
        data = data.subset(data.rating >= options.min_rating)
    user_min = max(options.user_core, options.min_seq_len)
    while len(data):
        user_counts = np.bincount(data.user, minlength=len(data.user_names))
        item_counts = np.bincount(data.item, minlength=len(data.item_names))
        keep = (user_counts[data.user] >= user_min) & (item_counts[data.item] >= options.item_core)
        if keep.all():
            break
        data = data.subset(keep)
    if not len(data):
        raise DataError(
            label,
            f"at least one user with >= {user_min} interactions after filtering",
            value=f"nothing left ({options.describe()})",
        )
    return data


def order_and_remap(data: Interactions) -> Processed:
    """Chronological sequences with dense ids (see the module docstring for the rules)."""
    user_index, user_ids = _dense_ids(data.user, data.user_names, start=0)
    item_index, item_ids = _dense_ids(data.item, data.item_names, start=1)
    order = np.lexsort((data.row, data.time, user_index))
    counts = np.bincount(user_index, minlength=len(user_ids))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Processed(
        items=item_index[order],
        offsets=offsets,
        user_ids=user_ids,
        item_ids=["", *item_ids],
        time_range=(float(data.time.min()), float(data.time.max())) if data.timed else None,
    )


def _dense_ids(codes: np.ndarray, names: list[str], start: int) -> tuple[np.ndarray, list[str]]:
    """Map the codes in use to start, start+1, ... in natural order of their names."""
    used = np.unique(codes)
    ordered = sorted(used.tolist(), key=lambda code: natural_key(names[code]))
    lookup = np.zeros(len(names), dtype=np.int64)
    lookup[ordered] = np.arange(start, start + len(ordered))
    return lookup[codes], [names[code] for code in ordered]
