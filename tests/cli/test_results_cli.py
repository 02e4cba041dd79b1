"""`llmd4rec runs results`: bad arguments exit 2 with a message naming the value."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml", "1"], "--format 'xml'"),
        (["--tag", "nosuch"], "--tag 'nosuch': no run has this tag"),
        ([], "give run ids or --tag"),
        (["99"], "no run with id 99"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "runs.db"), "runs", "results", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
