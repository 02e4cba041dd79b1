"""The user's own files: atomic and CSV layouts, configurable columns, and every bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import DataSection
from engine.data.errors import DataError
from engine.data.load import load_dataset

HEADER = ("user_id:token", "item_id:token", "rating:float", "timestamp:float")
ITEM_HEADER = ("item_id:token", "movie_title:token_seq", "release_year:token", "genre:token_seq")


def test_atomic_inter_picks_up_sibling_item_file(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    write_atomic("mine.item", ITEM_HEADER, [(f"i{k}", f"Movie {k}", 2000 + k, "Drama") for k in range(1, 6)])
    path = write_atomic("mine.inter", HEADER, small_inter, newline="\r\n")
    data = load_dataset(section(dataset="path", path=str(path)))
    assert data.name == "mine"
    assert data.item_text == [
        "",
        "Movie 1 (2001)",
        "Movie 2 (2002)",
        "Movie 3 (2003)",
        "Movie 4 (2004)",
        "Movie 5 (2005)",
    ]
    assert data.stats()["items_with_text"] == 5


def test_csv_with_item_csv_and_custom_columns(
    write_csv: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    inter = write_csv("log.csv", ("who", "what", "score", "when"), small_inter)
    items = write_csv(
        "movies.csv",
        ("what", "title", "genres"),
        [(f"i{k}", f"Good, Bad {k} ({1990 + k})", "Action|Sci-Fi") for k in range(1, 6)],
    )
    config = section(
        dataset="path",
        path=str(inter),
        item_path=str(items),
        user_column="who",
        item_column="what",
        time_column="when",
        rating_column="score",
        title_column="title",
        genre_column="genres",
        min_rating=2.0,
    )
    data = load_dataset(config)
    assert data.user_ids == ["u1", "u2", "u10"]
    assert data.item_text[1] == "Good, Bad 1 (1991)"  # year already in the title: not repeated
    assert data.item_genres[1] == "Action, Sci-Fi"
    assert data.item_ids == ["", "i1", "i2", "i3", "i5"]  # i4's only rating is 1 < min_rating
    assert data.sequences[1].tolist() == [2, 3, 4]


def test_csv_without_item_file_has_empty_text(
    write_csv: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    path = write_csv("log.csv", ("user_id", "item_id", "rating", "timestamp"), small_inter)
    data = load_dataset(section(dataset="path", path=str(path)))
    assert data.item_text == [""] * (data.num_items + 1)
    assert data.stats()["items_with_text"] == 0


def test_ids_missing_from_item_file(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    items = write_atomic("few.item", ITEM_HEADER, [("i1", "One", 1999, ""), ("i2", "Two", 1999, "")])
    path = write_atomic("few.inter", HEADER, small_inter)
    with pytest.raises(DataError) as err:
        load_dataset(section(dataset="path", path=str(path), item_path=str(items)))
    assert err.value.line == 3 and err.value.value == "i3"
    assert "few.item (3 id(s) are not listed)" in str(err.value)


def test_duplicate_item_rows_are_rejected(
    write_atomic: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    rows = [(f"i{k}", "T", 1999, "") for k in range(1, 6)] + [("i2", "Again", 2000, "")]
    items = write_atomic("dup.item", ITEM_HEADER, rows)
    path = write_atomic("dup.inter", HEADER, small_inter)
    with pytest.raises(DataError, match=r"dup.item, line 7, column 'item_id': found 'i2'"):
        load_dataset(section(dataset="path", path=str(path), item_path=str(items)))


def test_missing_title_column(
    write_csv: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    inter = write_csv("log.csv", ("user_id", "item_id", "rating", "timestamp"), small_inter)
    items = write_csv("items.csv", ("item_id", "name"), [(f"i{k}", "x") for k in range(1, 6)])
    with pytest.raises(DataError) as err:
        load_dataset(section(dataset="path", path=str(inter), item_path=str(items)))
    assert err.value.column == "movie_title" and "['item_id', 'name']" in str(err.value)


def test_missing_time_column(
    write_csv: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    inter = write_csv("log.csv", ("user_id", "item_id", "rating", "ts"), small_inter)
    with pytest.raises(DataError, match=r"column 'timestamp'.*\['user_id', 'item_id', 'rating', 'ts'\]"):
        load_dataset(section(dataset="path", path=str(inter)))


def test_bad_timestamp_names_line_and_value(
    write_csv: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    rows = [list(r) for r in small_inter]
    rows[4][3] = "yesterday"
    inter = write_csv("log.csv", ("user_id", "item_id", "rating", "timestamp"), rows)
    with pytest.raises(DataError, match=r"log.csv, line 6, column 'timestamp': found 'yesterday'"):
        load_dataset(section(dataset="path", path=str(inter)))


def test_bad_rating_only_matters_with_a_threshold(
    write_csv: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    rows = [list(r) for r in small_inter]
    rows[0][2] = "n/a"
    inter = write_csv("log.csv", ("user_id", "item_id", "rating", "timestamp"), rows)
    assert load_dataset(section(dataset="path", path=str(inter))).num_users == 3
    with pytest.raises(DataError, match=r"line 2, column 'rating': found 'n/a'"):
        load_dataset(section(dataset="path", path=str(inter), min_rating=3.0))


def test_empty_user_id(
    write_csv: Callable[..., Path], section: Callable[..., DataSection], small_inter: list[tuple]
) -> None:
    rows = [list(r) for r in small_inter]
    rows[2][0] = ""
    inter = write_csv("log.csv", ("user_id", "item_id", "rating", "timestamp"), rows)
    with pytest.raises(DataError, match=r"line 4, column 'user_id'.*non-empty user id"):
        load_dataset(section(dataset="path", path=str(inter)))


def test_missing_files_and_unknown_suffix(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    with pytest.raises(DataError, match="an existing interaction file"):
        load_dataset(section(dataset="path", path=str(tmp_path / "absent.inter")))
    odd = tmp_path / "log.dat"
    odd.write_text("user_id\titem_id\ttimestamp\n")
    with pytest.raises(
        DataError, match=r"found '\.dat'; expected a \.inter, \.tsv, \.csv, \.txt, \.json or \.jsonl file"
    ):
        load_dataset(section(dataset="path", path=str(odd)))
    inter = tmp_path / "log.csv"
    inter.write_text("user_id,item_id,timestamp\nu,i,1\n")
    with pytest.raises(DataError, match="an existing item file"):
        load_dataset(section(dataset="path", path=str(inter), item_path=str(tmp_path / "nope.csv")))


def test_format_override_reads_unknown_suffix(tmp_path: Path, section: Callable[..., DataSection]) -> None:
    path = tmp_path / "log.dat"
    path.write_text("user_id,item_id,timestamp\nu,a,1\nu,b,2\nu,c,3\n")
    data = load_dataset(section(dataset="path", path=str(path), format="csv"))
    assert data.sequences[0].tolist() == [1, 2, 3]
