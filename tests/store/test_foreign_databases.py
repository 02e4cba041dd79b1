"""Databases that are not ours are refused and left exactly as they were; `runs import`
reads its source read-only."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.store.db import StoreError, open_store

runner = CliRunner()


def _foreign(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE runs (id INTEGER PRIMARY KEY, distance REAL)"))
        connection.execute(text("CREATE TABLE shoes (id INTEGER PRIMARY KEY)"))
    engine.dispose()


def test_a_foreign_database_is_refused_and_left_unchanged(db_url: str) -> None:
    _foreign(db_url)
    with pytest.raises(StoreError, match=r"is not an llmd4rec database .*runs, shoes.*nothing was changed"):
        open_store(db_url)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"runs", "shoes"}
        assert [c["name"] for c in inspect(connection).get_columns("runs")] == ["id", "distance"]
    engine.dispose()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_cli_refuses_a_foreign_sqlite_file_with_exit_1_changing_no_byte(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    _foreign(f"sqlite:///{path}")
    before = _digest(path)
    for args in (["runs", "ls"], ["queue", "ls"], ["worker", "--until-empty"]):
        result = runner.invoke(app, ["--db", str(path), *args])
        assert result.exit_code == 1 and "is not an llmd4rec database" in result.stderr, args
    assert _digest(path) == before and not (tmp_path / "other.db-wal").exists()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_runs_import_reads_its_source_without_switching_it_to_wal(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    open_store(f"sqlite:///{source}").close()
    with sqlite3.connect(source) as connection:  # as a copy from elsewhere might be
        connection.execute("PRAGMA journal_mode=DELETE")
    before = _digest(source)
    result = runner.invoke(app, ["--db", str(tmp_path / "here.db"), "runs", "import", str(source)])
    assert result.exit_code == 0, result.stderr
    assert _digest(source) == before
    assert sqlite3.connect(source).execute("PRAGMA journal_mode").fetchone() == ("delete",)
