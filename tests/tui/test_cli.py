"""`llmd4rec runs compare` and `llmd4rec tui` through Typer's CliRunner; imports stay torch-free."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import llmd4rec_tui.cli.compare_cmd  # noqa: F401  (attaches `runs compare`)
from llmd4rec_tui.cli import app
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.queries import run_page
from llmd4rec_tui.store.run_filter import RunFilter

runner = CliRunner()


def invoke(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db_url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_compare_as_json_groups_seeds(db_url: str, run_ids: dict[str, int]) -> None:
    code, out, _ = invoke(db_url, "runs", "compare", "1", "2", "4", "--format", "json", "--baseline", "4")
    assert code == 0
    data = json.loads(out)
    assert [row["run_ids"] for row in data["tables"][0]["rows"]] == [[1, 2], [4]]
    assert data["baseline"] == 4


@pytest.mark.parametrize(("fmt", "marker"), [("csv", "protocol,run,ids"), ("md", "| run |"), ("latex", r"\toprule")])
def test_compare_exports(db_url: str, run_ids: dict[str, int], fmt: str, marker: str) -> None:
    code, out, _ = invoke(db_url, "runs", "compare", "--tag", "paper", "--format", fmt)
    assert code == 0 and marker in out


def test_compare_table_is_the_default(db_url: str, run_ids: dict[str, int]) -> None:
    code, out, _ = invoke(db_url, "runs", "compare", "1", "3")
    assert code == 0 and "protocol:" in out and "train.crm_lr" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "2", "--format", "xls"], "'xls' is not one of"),
        (["1", "99"], "no run with id 99"),
        (["--tag", "nope"], "--tag 'nope': no run has this tag"),
        ([], "give run ids or --tag"),
        (["1", "2", "--baseline", "5"], "--baseline 5: not among the compared runs (1, 2)"),
    ],
)
def test_compare_refuses_bad_input_clearly(db_url: str, run_ids: dict[str, int], args: list[str], message: str) -> None:
    code, _, err = invoke(db_url, "runs", "compare", *args)
    assert code != 0
    assert message in " ".join(err.split())


def test_tui_on_a_database_in_a_missing_folder_exits_with_a_message(tmp_path: Path) -> None:
    """A new file in an existing folder opens an empty Runs screen (test_missing_database);
    in a folder that does not exist nothing could ever be written, so it is an error."""
    for command in (["tui"], []):
        code, _, err = invoke(str(tmp_path / "nowhere" / "none.db"), *command)
        assert code == 1 and "no database at" in err
    assert not (tmp_path / "nowhere").exists()


def test_the_tui_and_compare_never_import_torch() -> None:
    code = (
        "import sys, llmd4rec_tui.app, llmd4rec_tui.cli.compare_cmd, llmd4rec_tui.cli.tui_cmd;"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_runs_ls_shows_the_running_phases_eta(
    db_url: str, store: Store, run_ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ETA of the Runs screen, as a column of `runs ls`: blank for runs not running."""
    import llmd4rec_tui.cli.run_table as run_table

    with store.session() as session:
        (running,) = run_page(session, RunFilter(statuses=("running",))).rows
    at = datetime.fromtimestamp(running.pace["at"], UTC)
    monkeypatch.setattr(run_table, "now_utc", lambda: at)
    code, out, _ = invoke(db_url, "runs", "ls", "--csv")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(out))}
    assert code == 0 and rows[str(running.id)]["eta"] not in ("", "-")
    assert all(row["eta"] == "" for row in rows.values() if row["status"] != "running")
