"""Inputs a hostile user types: markup in values and names, glob characters in file names,
numbers too large for the database, NaN, sizes that would hang, relative data paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app

runner = CliRunner()


def cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


def config(tmp_path: Path, body: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text("[train]\ncrm_epochs = 1\n" + body)
    return path


@pytest.mark.parametrize("value", ["[/]", "[bold]x[/bold]"])
def test_markup_in_a_bad_value_is_printed_as_written(db: Path, tmp_path: Path, value: str) -> None:
    code, _, err = cli(db, "queue", "add", str(config(tmp_path, f'[crm]\nmodel = "{value}"\n')))
    assert code == 2 and repr(value) in err and "nothing was added" in err


def test_a_run_name_with_markup_is_listed_as_written(db: Path, tmp_path: Path) -> None:
    path = config(tmp_path, '[run]\nname = "[/] and [bold]x[/bold]"\n')
    assert cli(db, "queue", "add", str(path))[0] == 0
    code, out, _ = cli(db, "runs", "ls")
    assert code == 0 and "[/]" in out  # the table may wrap the rest of the name
    code, out, _ = cli(db, "runs", "show", "1")
    assert code == 0 and "[/] and [bold]x[/bold]" in out


def test_a_file_named_like_a_glob_is_taken_literally(db: Path, tmp_path: Path) -> None:
    path = config(tmp_path, "", name="exp[1].toml")
    code, out, err = cli(db, "queue", "add", str(path))
    assert code == 0 and "queued 1 run(s)" in out, err


def test_help_keeps_its_default_texts() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "[default: ./runs.db]" in result.stdout
    result = runner.invoke(app, ["worker", "--help"], env={"COLUMNS": "200"})
    assert "[default: python -m engine]" in result.stdout


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[run]\nseed = 18446744073709551616\n", "run.seed = 18446744073709551616: expected an integer <= 9,223,"),
        ("[train]\ncrm_lr = inf\n", "train.crm_lr = inf: expected a finite number"),
        ("[distill]\nt1 = nan\n", "distill.t1 = nan: expected a finite number"),
        ("[data]\nsynthetic_users = 1000000000000\n", "<= 1,000,000 (larger would take hours or exhaust memory)"),
        ("[crm]\nhidden_size = 1000000000\n", "crm.hidden_size = 1000000000: expected an integer <= 16,384"),
    ],
)
def test_non_finite_and_oversized_values_are_refused_at_queue_add(
    db: Path, tmp_path: Path, body: str, expected: str
) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(body)
    code, _, err = cli(db, "queue", "add", str(path))
    assert code == 2 and expected in " ".join(err.split()), err


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "show", "99999999999999999999"),
        ("queue", "priority", "1", "--to", "100000000000000000000"),
        ("runs", "retry", "99999999999999999999"),
    ],
)
def test_integers_too_large_for_the_database_are_usage_errors(db: Path, args: tuple[str, ...]) -> None:
    code, _, err = cli(db, *args)
    assert code == 2 and "9223372036854775807" in err.replace(",", "")


def test_priority_too_large_is_refused(db: Path, tmp_path: Path) -> None:
    code, _, err = cli(db, "queue", "add", str(config(tmp_path, "")), "--priority", "100000000000000000000")
    assert code == 2 and "Traceback" not in err


def test_a_relative_data_path_is_resolved_against_the_config_file(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "configs"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "inter.csv").write_text("user_id,item_id,timestamp\n1,1,1\n")
    path = config(folder, '[data]\ndataset = "path"\npath = "data/inter.csv"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = cli(db, "queue", "add", str(path), "--json")
    assert code == 0, err
    code, out, _ = cli(db, "runs", "show", "1", "--json")
    stored = (
        json.loads(json.loads(out)["config_json"]) if "config_json" in json.loads(out) else json.loads(out)["config"]
    )
    assert stored["data"]["path"] == str((folder / "data" / "inter.csv").resolve())
    os.remove(folder / "data" / "inter.csv")
    code, _, err = cli(db, "queue", "add", str(path), "--force")
    assert code == 2 and "data.path = 'data/inter.csv': expected an existing file" in " ".join(err.split())
