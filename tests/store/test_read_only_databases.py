"""A database this process cannot write: reading commands work (SQLite mode=ro, immutable=1
where even the -shm cannot be created), writing commands say it is read-only and exit 2.

Tests run as root, which ignores file modes, so a read-only file is made with ``chattr +i``
(immutable: not even root may write it) and a read-only directory with a read-only bind
mount; either is skipped where the machine does not allow it. As another user a chmod does.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.store.db import open_store
from llmd4rec_tui.store.queries import list_runs
from llmd4rec_tui.store.run_filter import RunFilter
from llmd4rec_tui.store.views import open_for_reading
from tests.fixtures.queued import queue_runs
from tests.queue.workers import run_worker

runner = CliRunner()
GOOD = '[run]\nname = "more"\nseed = 9\n'


def _filled(path: Path) -> None:
    store = open_store(f"sqlite:///{path}")
    queue_runs(store, 2)
    run_worker(store, path.parent / "runs", "--steps", "2")
    store.close()  # the last connection out removes -wal and -shm


def _run(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


@pytest.fixture(params=["file", "directory"])
def read_only_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A filled database whose file (chattr +i / chmod 0444) or folder (ro bind mount) is read-only."""
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "runs.db"
    _filled(path)
    root = os.geteuid() == 0
    if request.param == "file":
        if root and not _run(["chattr", "+i", str(path)]):
            pytest.skip("chattr +i is not supported here")
        if not root:
            path.chmod(0o444)
        yield path
        if root:
            _run(["chattr", "-i", str(path)])
        return
    if not root:
        folder.chmod(0o555)
        yield path
        folder.chmod(0o755)
        return
    view = tmp_path / "view"
    view.mkdir()
    if not _run(["mount", "--bind", str(folder), str(view)]):
        pytest.skip("bind mounts are not allowed here")
    try:
        if not _run(["mount", "-o", "remount,bind,ro", str(view)]):
            pytest.skip("read-only remounts are not allowed here")
        assert not os.access(view, os.W_OK) or not _run(["touch", str(view / "probe")])
        yield view / "runs.db"
    finally:
        _run(["umount", str(view)])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reading_commands_work_on_a_read_only_database(read_only_db: Path, tmp_path: Path) -> None:
    before = _digest(read_only_db)
    db = str(read_only_db)
    for args in (
        ["runs", "ls"],
        ["queue", "ls"],
        ["runs", "show", "1"],
        ["runs", "compare", "1", "2"],
        ["runs", "results", "1", "2"],
        ["runs", "import", db],
    ):
        target = str(tmp_path / "copy.db") if args[1] == "import" else db
        result = runner.invoke(app, ["--db", target, *args])
        assert result.exit_code == 0, (args, result.stderr, result.exception)
    result = runner.invoke(app, ["--db", db, "runs", "ranks", "1"])  # the fake engine sends no ranks
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output + result.stderr
    shown = runner.invoke(app, ["--db", db, "runs", "show", "1"]).stdout
    assert "succeeded" in shown
    store = open_for_reading(f"sqlite:///{read_only_db}")  # what the TUI opens
    try:
        with store.session() as session:
            assert [run.status for run in list_runs(session, RunFilter())] == ["succeeded", "succeeded"]
        assert store.read_only
    finally:
        store.close()
    assert _digest(read_only_db) == before


def test_writing_commands_say_the_database_is_read_only_and_exit_1(read_only_db: Path, tmp_path: Path) -> None:
    before = _digest(read_only_db)
    config = tmp_path / "more.toml"
    config.write_text(GOOD)
    db = str(read_only_db)
    for args in (
        ["queue", "add", str(config)],
        ["runs", "retry", "1"],
        ["runs", "cancel", "1"],
        ["queue", "hold", "1"],
        ["worker", "--until-empty"],
    ):
        result = runner.invoke(app, ["--db", db, *args])
        assert result.exit_code == 1, (args, result.stderr, result.exception)
        assert "is read-only" in result.stderr and "Traceback" not in result.stderr, args
    assert _digest(read_only_db) == before
