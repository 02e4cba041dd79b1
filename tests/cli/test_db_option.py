"""--db after the sub-command, and reading commands that never create the database file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app, hoist_db

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["runs", "ls", "--db", "x.db"], ["--db", "x.db", "runs", "ls"]),
        (["runs", "ls", "--db=x.db", "--json"], ["--db=x.db", "runs", "ls", "--json"]),
        (["--db", "a.db", "runs", "ls", "--db", "b.db"], ["--db", "b.db", "runs", "ls"]),
        (["queue", "add", "--", "--db"], ["queue", "add", "--", "--db"]),
    ],
)
def test_the_db_option_moves_before_the_command(args: list[str], expected: list[str]) -> None:
    assert hoist_db(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "ls", "--json"],
        ["queue", "ls", "--json"],
        ["runs", "ls", "--csv"],
        ["runs", "results", "--tag", "paper"],
        ["runs", "compare", "1"],
        ["runs", "show", "1"],
    ],
)
def test_reading_a_missing_database_creates_no_file(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "runs.db"
    result = runner.invoke(app, [*args[:2], "--db", str(path), *args[2:]])
    assert not path.exists() and not list(tmp_path.iterdir())
    if args[-1] == "--json":
        assert result.exit_code == 0 and json.loads(result.stdout) == []
    else:
        assert result.exit_code in (0, 1), result.output  # empty listing, or "no run with id 1"


def test_a_write_after_the_command_goes_to_that_database(tmp_path: Path) -> None:
    config = tmp_path / "a.toml"
    config.write_text('[run]\nname = "a"\n', encoding="utf-8")
    path = tmp_path / "other.db"
    assert runner.invoke(app, ["queue", "add", str(config), "--db", str(path)]).exit_code == 0
    listed = runner.invoke(app, ["runs", "ls", "--json", "--db", f"sqlite:///{path}"])
    assert [run["name"] for run in json.loads(listed.stdout)] == ["a"]
