"""Exit 2 for a command that is wrong whatever it meets, 1 for one the database or the world refused.

Through the real Typer app on a real SQLite file with one queued run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app

runner = CliRunner()
GOOD = '[run]\nname = "one"\n[train]\ncrm_epochs = 1\n'


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("codes")
    (folder / "one.toml").write_text(GOOD)
    (folder / "bad.toml").write_text('[train]\ncrm_epochs = "many"\n')
    path = str(folder / "runs.db")
    assert runner.invoke(app, ["--db", path, "queue", "add", str(folder / "one.toml")]).exit_code == 0
    return path


USAGE = [
    (["runs", "compare", "1", "--format", "xml"], "'xml' is not one of"),
    (["runs", "results", "1", "--format", "docx"], "'docx' is not one of"),
    (["runs", "ranks", "1", "--format", "yaml"], "'yaml' is not one of"),
    (["runs", "ls", "--status", "done"], "--status 'done'"),
    (["runs", "retry"], "give run ids or --failed"),
    (["runs", "compare", "1", "--baseline", "2"], "--baseline 2: not among the compared runs"),
    (["queue", "add", "{folder}/bad.toml"], "train.crm_epochs"),
    (["data", "fetch", "ml-10m"], "unknown dataset 'ml-10m'"),
]
RUNTIME = [
    (["runs", "show", "99"], "no run with id 99"),
    (["runs", "compare", "98"], "98"),
    (["runs", "results", "--tag", "nosuch"], "--tag 'nosuch': no run has this tag"),
    (["runs", "results", "1"], "none of the chosen runs has succeeded yet"),
    (["queue", "hold", "42"], "no run with id 42"),
    (["runs", "retry", "1"], "run 1 is queued"),
    (["queue", "add", "{folder}/one.toml"], "same config"),
]


@pytest.mark.parametrize(("args", "message"), USAGE)
def test_usage_errors_exit_2(db: str, args: list[str], message: str) -> None:
    _check(db, args, 2, message)


@pytest.mark.parametrize(("args", "message"), RUNTIME)
def test_runtime_failures_exit_1(db: str, args: list[str], message: str) -> None:
    _check(db, args, 1, message)


def test_an_unreadable_database_exits_1(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("plain text, not a database " * 50)
    _check(str(notes), ["runs", "ls"], 1, "cannot open the database")


def _check(db: str, args: list[str], code: int, message: str) -> None:
    folder = str(Path(db).parent)
    result = runner.invoke(app, ["--db", db, *(a.format(folder=folder) for a in args)])
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
