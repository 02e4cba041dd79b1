"""`llmd4rec queue ...` through the real Typer app and a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app

runner = CliRunner()
GOOD = '[run]\nname = "{name}"\nseed = {seed}\n[train]\ncrm_epochs = 1\n'


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "runs.db")


def cli(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def queued(db: str) -> list[dict[str, Any]]:
    code, out, _ = cli(db, "queue", "ls", "--json")
    assert code == 0
    return list(json.loads(out))


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_add_then_list_as_json_and_csv(db: str, tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", GOOD.format(name="a", seed=1))
    b = write(tmp_path / "b.toml", GOOD.format(name="b", seed=2))
    code, out, _ = cli(db, "queue", "add", str(a), str(b), "--json")
    assert code == 0 and json.loads(out) == {"added": [1, 2], "skipped": []}
    assert [(r["id"], r["name"], r["status"]) for r in queued(db)] == [(1, "a", "queued"), (2, "b", "queued")]
    code, out, _ = cli(db, "queue", "ls", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["name"] for r in rows] == ["a", "b"] and rows[0]["status"] == "queued"
    code, out, _ = cli(db, "queue", "ls")
    assert code == 0 and "queue" in out and "a" in out


def test_globs_and_sweeps_expand(db: str, tmp_path: Path) -> None:
    for seed in range(3):
        write(tmp_path / f"c{seed}.toml", GOOD.format(name=f"c{seed}", seed=seed))
    sweep = write(
        tmp_path / "sweep.txt",
        GOOD.format(name="s", seed=0) + '[sweep]\n"crm.hidden_size" = [16, 32]\nseeds = [5, 6]\n',
    )
    code, out, err = cli(db, "queue", "add", str(tmp_path / "c*.toml"), str(sweep), "--json")
    assert code == 0, err
    assert len(json.loads(out)["added"]) == 3 + 4
    names = [r["name"] for r in queued(db)]
    assert "s hidden_size=16" in names and names.count("s hidden_size=32") == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run\nname = 1", "(syntax)"),
        ("[crm]\nhiden_size = 3\n", "crm.hiden_size"),
        ('[crm]\nhidden_size = "big"\n', "crm.hidden_size = 'big'"),
        ("[crm]\nhidden_size = -4\n", "crm.hidden_size = -4"),
    ],
)
def test_one_bad_file_adds_nothing(db: str, tmp_path: Path, text: str, message: str) -> None:
    good = write(tmp_path / "good.toml", GOOD.format(name="good", seed=1))
    bad = write(tmp_path / "bad.toml", text)
    code, _, err = cli(db, "queue", "add", str(good), str(bad))
    assert code == 2
    assert str(bad) in err and message in err and "nothing was added" in err
    assert queued(db) == []


def test_missing_files_and_empty_globs_are_errors(db: str, tmp_path: Path) -> None:
    code, _, err = cli(db, "queue", "add", str(tmp_path / "nope.toml"))
    assert code == 2 and "nope.toml" in err and "an existing config file" in err
    code, _, err = cli(db, "queue", "add", str(tmp_path / "none-*.toml"))
    assert code == 2 and "no file matches this pattern" in err


def test_duplicates_are_refused_forced_or_skipped(db: str, tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", GOOD.format(name="a", seed=1))
    renamed = write(tmp_path / "renamed.toml", GOOD.format(name="other name, same config", seed=1))
    assert cli(db, "queue", "add", str(a))[0] == 0
    code, _, err = cli(db, "queue", "add", str(renamed))
    assert code == 1 and "same config" in err and "as run 1" in err and "--force" in err
    code, out, _ = cli(db, "queue", "add", str(a), "--skip-done", "--json")
    assert code == 0 and json.loads(out)["added"] == [] and len(json.loads(out)["skipped"]) == 1
    code, out, _ = cli(db, "queue", "add", str(a), "--force", "--json")
    assert code == 0 and json.loads(out)["added"] == [2]


def test_hold_release_reorder_priority_and_remove(db: str, tmp_path: Path) -> None:
    files = [str(write(tmp_path / f"r{i}.toml", GOOD.format(name=f"r{i}", seed=i))) for i in range(3)]
    cli(db, "queue", "add", *files)
    assert cli(db, "queue", "top", "3")[0] == 0
    assert [r["id"] for r in queued(db)] == [3, 1, 2]
    assert cli(db, "queue", "down", "3")[0] == 0
    assert cli(db, "queue", "up", "2")[0] == 0
    assert [r["id"] for r in queued(db)] == [1, 2, 3]
    assert cli(db, "queue", "priority", "3", "--to", "-5")[0] == 0
    assert next(r["id"] for r in queued(db)) == 3
    assert cli(db, "queue", "hold", "1")[0] == 0
    assert {r["id"]: r["status"] for r in queued(db)}[1] == "held"
    assert cli(db, "queue", "release", "1")[0] == 0
    assert cli(db, "queue", "rm", "2")[0] == 0
    assert sorted(r["id"] for r in queued(db)) == [1, 3]
    code, _, err = cli(db, "queue", "hold", "42")
    assert code == 1 and "no run with id 42" in err


def test_an_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = write(tmp_path / "notes.db", "plain text, not a database " * 50)
    code, _, err = cli(str(bad), "queue", "ls")
    assert code == 1 and "cannot open the database" in err and "notes.db" in err
