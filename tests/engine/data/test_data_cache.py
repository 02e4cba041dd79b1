"""The processed cache: keys, warm loads, atomic writes and recovery from a bad entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engine.config import DataSection
from engine.data import cache as cache_module
from engine.data.load import load_dataset

HEADER = ("user_id:token", "item_id:token", "rating:float", "timestamp:float")
ITEM_HEADER = ("item_id:token", "movie_title:token_seq", "release_year:token", "genre:token_seq")


def _entries(section: DataSection) -> list[Path]:
    return sorted((Path(section.cache_dir) / "processed").glob("*.npz"))


@pytest.fixture
def files(write_atomic: Callable[..., Path], small_inter: list[tuple]) -> Path:
    items = [(f"i{k}", f'Title "{k}"', 1990 + k, "Drama Comedy") for k in range(1, 6)]
    write_atomic("small.item", ITEM_HEADER, items)
    return write_atomic("small.inter", HEADER, small_inter)


def test_warm_load_equals_cold_load(files: Path, section: Callable[..., DataSection]) -> None:
    config = section(dataset="path", path=str(files))
    cold = load_dataset(config)
    assert len(_entries(config)) == 1
    warm = load_dataset(config)
    assert warm.fingerprint == cold.fingerprint != ""
    assert [s.tolist() for s in warm.sequences] == [s.tolist() for s in cold.sequences]
    assert all(s.dtype == np.int64 for s in warm.sequences)
    for name in (
        "name",
        "num_items",
        "item_text",
        "item_genres",
        "user_ids",
        "item_ids",
        "preprocessing",
        "time_range",
    ):
        assert getattr(warm, name) == getattr(cold, name), name
    assert cold.item_text[1] == 'Title "1" (1991)'
    assert cold.item_genres[1] == "Drama, Comedy"


def test_key_changes_with_preprocessing_and_with_file_content(files: Path, section: Callable[..., DataSection]) -> None:
    base = load_dataset(section(dataset="path", path=str(files))).fingerprint
    rated = load_dataset(section(dataset="path", path=str(files), min_rating=2.0)).fingerprint
    renamed = load_dataset(section(dataset="path", path=str(files), rating_column="rating", title_column="movie_title"))
    assert rated != base
    assert renamed.fingerprint == base  # same settings spelled out: same key
    files.write_text(files.read_text() + "u2\ti1\t3\t80\n")
    changed = load_dataset(section(dataset="path", path=str(files)))
    assert changed.fingerprint not in (base, rated)
    assert changed.sequences[1].tolist()[-1] == 1
    assert len(_entries(section())) == 3


def test_failed_write_leaves_no_partial_entry(
    files: Path, section: Callable[..., DataSection], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_savez(handle: object, **arrays: object) -> None:
        handle.write(b"PK partial")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(cache_module.np, "savez", broken_savez)
    config = section(dataset="path", path=str(files))
    with pytest.raises(OSError, match="disk full"):
        load_dataset(config)
    processed = Path(config.cache_dir) / "processed"
    assert list(processed.iterdir()) == []


def test_unreadable_entry_is_rebuilt(files: Path, section: Callable[..., DataSection]) -> None:
    config = section(dataset="path", path=str(files))
    first = load_dataset(config)
    (entry,) = _entries(config)
    entry.write_bytes(entry.read_bytes()[:100])
    again = load_dataset(config)
    assert [s.tolist() for s in again.sequences] == [s.tolist() for s in first.sequences]
    assert entry.stat().st_size > 100
