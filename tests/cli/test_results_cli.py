"""`llmd4rec runs results`: the table from a real database; bad arguments exit 2 with a
message naming the value."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.config import config_from_dict, config_to_toml
from llmd4rec_tui.cli import app
from llmd4rec_tui.queue.enqueue import PendingRun, add_runs
from llmd4rec_tui.store.db import open_store
from tests.tui.results_fill import TAG, fill_results


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--format", "xml", "1"], 2, "'xml' is not one of"),
        ([], 2, "give run ids or --tag"),
        (["--tag", "nosuch"], 1, "--tag 'nosuch': no run has this tag"),
        (["99"], 1, "no run with id 99"),
    ],
)
def test_bad_arguments_exit_2_and_missing_runs_exit_1(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "runs.db"), "runs", "results", *args])
    assert result.exit_code == code
    assert message in " ".join(result.output.split())


def test_the_table_into_a_pipe_keeps_every_cell_whole(tmp_path: Path) -> None:
    """Piped (not a terminal), no cell is cut to fit 80 columns, and a run still queued
    adds no empty table of its own."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = open_store(url)
    fill_results(store)
    config = config_from_dict({"run": {"name": "waiting", "tags": [TAG]}}, "waiting.toml")
    add_runs(store, [PendingRun(Path("waiting.toml"), config, config_to_toml(config))], force=True)
    store.close()
    result = CliRunner().invoke(app, ["--db", url, "runs", "results", "--tag", TAG, "--all"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert result.output.count("protocol:") == 1
    for label in ("SASRec", "E4SRec", "LLMD4Rec_C", "LLMD4Rec_L", "LLMD4Rec_C w/o w", "One-way LLM→SASRec"):
        assert f"│ {label} " in result.output
    assert "0.3050 ± 0.0071" in result.output  # SASRec HR@10 over seeds 0.30 and 0.31
