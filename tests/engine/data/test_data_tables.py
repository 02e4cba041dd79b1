"""Parsing of atomic and CSV tables: line endings, quotes, shapes and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.data.errors import DataError
from engine.data.sources import DataSource
from engine.data.tables import Table, TableFormat, read_table


def _table(path: Path, text: str | bytes, fmt: TableFormat = "atomic") -> Table:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return read_table(DataSource(path), fmt)


def test_atomic_crlf_type_suffix_and_bare_quotes(tmp_path: Path) -> None:
    text = 'item_id:token\tmovie_title:token\r\n1\t"Great" Escape, The\r\n2\tBug\'s Life, A\r\n'
    table = _table(tmp_path / "x.item", text)
    assert table.header == ["item_id", "movie_title"]
    assert table.columns["movie_title"] == ['"Great" Escape, The', "Bug's Life, A"]
    assert table.columns["item_id"] == ["1", "2"]


def test_lf_and_crlf_files_parse_identically(tmp_path: Path) -> None:
    rows = "user_id:token\titem_id:token\n1\t2\n3\t4\n"
    lf = _table(tmp_path / "lf.inter", rows)
    crlf = _table(tmp_path / "crlf.inter", rows.replace("\n", "\r\n"))
    assert lf.columns == crlf.columns


def test_csv_keeps_quoted_commas(tmp_path: Path) -> None:
    table = _table(tmp_path / "items.csv", 'item,title\n7,"Good, the Bad and the Ugly, The"\n', "csv")
    assert table.columns["title"] == ["Good, the Bad and the Ugly, The"]


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        _table(tmp_path / "bad.inter", "user_id\titem_id\ttimestamp\n1\t2\t3\n4\t5\n6\t7\t8\n")
    assert err.value.line == 3
    assert "bad.inter, line 3" in str(err.value)
    assert "3 tab-separated fields" in str(err.value)


def test_malformed_csv_line(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        _table(tmp_path / "bad.csv", "user,item,timestamp\n1,2,3\n1,2,3,4\n", "csv")
    assert err.value.line == 3 and "3 comma-separated fields" in str(err.value)


def test_wrong_delimiter_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        _table(tmp_path / "comma.inter", "user_id,item_id,timestamp\n1,2,3\n")
    message = str(err.value)
    assert "tab-separated header" in message and "looks comma-separated" in message
    assert "user_id,item_id,timestamp" in message


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty file"):
        _table(tmp_path / "empty.inter", "")
    with pytest.raises(DataError, match="header only"):
        _table(tmp_path / "head.inter", "user_id\titem_id\n")


def test_bad_utf8_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        _table(tmp_path / "latin.item", b"item_id\ttitle\n1\tok\n2\tCaf\xe9\n")
    assert err.value.line == 3 and "UTF-8" in str(err.value)


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="an existing file"):
        read_table(DataSource(tmp_path / "nope.inter"), "atomic")


def test_missing_column_lists_what_was_found(tmp_path: Path) -> None:
    table = _table(tmp_path / "x.inter", "user\titem\n1\t2\n")
    with pytest.raises(DataError) as err:
        table.column("timestamp", "timestamps")
    assert "['user', 'item']" in str(err.value) and "'timestamp'" in str(err.value)
