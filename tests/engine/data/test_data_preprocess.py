"""Filters, ordering and id remapping on hand-made interactions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import DataSection
from engine.data.errors import DataError
from engine.data.load import load_dataset
from engine.data.preprocess import natural_key

HEADER = ("user_id:token", "item_id:token", "rating:float", "timestamp:float")


def test_order_tie_break_and_natural_ids(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    path = write_atomic("small.inter", HEADER, small_inter)
    data = load_dataset(section(dataset="path", path=str(path)))
    # u4 has 2 interactions (< min_seq_len 3) and is dropped; "u10" sorts after "u2".
    assert data.user_ids == ["u1", "u2", "u10"]
    assert data.item_ids == ["", "i1", "i2", "i3", "i4", "i5"]
    # u1: i1@100, then the tie at 200 in file order (i2 before i4), then i3@300.
    assert data.sequences[0].tolist() == [1, 2, 4, 3]
    assert data.sequences[1].tolist() == [2, 3, 5]
    assert data.preprocessing["raw"] == {"users": 4, "items": 5, "interactions": 12}
    assert data.time_range == (10.0, 300.0)


def test_same_files_give_same_sequences_whatever_the_tie_order(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection]
) -> None:
    rows = [("a", f"i{k}", 1, 5) for k in range(6)]
    first = load_dataset(section(dataset="path", path=str(write_atomic("a.inter", HEADER, rows))))
    again = load_dataset(section(dataset="path", path=str(write_atomic("b.inter", HEADER, rows)), cache_dir=""))
    assert [first.item_ids[i] for i in first.sequences[0]] == [f"i{k}" for k in range(6)]
    assert [s.tolist() for s in first.sequences] == [s.tolist() for s in again.sequences]
    swapped = load_dataset(section(dataset="path", path=str(write_atomic("c.inter", HEADER, rows[::-1]))))
    assert [swapped.item_ids[i] for i in swapped.sequences[0]] == [f"i{k}" for k in reversed(range(6))]


def test_rating_threshold(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    path = write_atomic("small.inter", HEADER, small_inter)
    data = load_dataset(section(dataset="path", path=str(path), min_rating=4.0))
    # u1 keeps i1, i3 (2 rows) -> dropped; u2 keeps i2, i3 -> dropped; u10 keeps all 3.
    assert data.user_ids == ["u10"]
    assert data.item_ids == ["", "i1", "i2", "i3"]


def test_k_core_is_iterated_until_stable(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection]
) -> None:
    # Pass 1 drops "short" (2 rows < 3); "rare" is then left with 1 user (< item_core 2) and
    # goes in pass 2; that leaves "a" with 2 rows, dropped in pass 3. One pass would keep both.
    rows = [("short", "rare", 1, 1), ("short", "x", 1, 2)]
    rows += [("a", it, 1, t) for t, it in enumerate(["rare", "x", "y"])]
    rows += [("b", it, 1, t) for t, it in enumerate(["x", "y", "z"])]
    rows += [("c", it, 1, t) for t, it in enumerate(["x", "y", "z"])]
    path = write_atomic("core.inter", HEADER, rows)
    data = load_dataset(section(dataset="path", path=str(path), user_core=3, item_core=2))
    assert data.user_ids == ["b", "c"]
    assert data.item_ids == ["", "x", "y", "z"]
    assert [s.tolist() for s in data.sequences] == [[1, 2, 3], [1, 2, 3]]


def test_empty_after_filtering_is_an_error(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    path = write_atomic("small.inter", HEADER, small_inter)
    with pytest.raises(DataError) as err:
        load_dataset(section(dataset="path", path=str(path), user_core=10))
    assert "nothing left" in str(err.value) and "user_core=10" in str(err.value)
    assert not list((Path(section().cache_dir) / "processed").glob("*.npz"))


def test_natural_key_orders_numbers_by_value() -> None:
    names = ["1m_10", "1m_2", "b", "1m_1", "a10", "a9"]
    assert sorted(names, key=natural_key) == ["1m_1", "1m_2", "1m_10", "a9", "a10", "b"]
