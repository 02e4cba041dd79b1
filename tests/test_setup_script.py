"""scripts/setup.sh says nothing when it works and prints pip's whole log when it fails,
run in a copy of the repository's layout with a stand-in for .venv/bin/python."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parents[1] / "scripts" / "setup.sh"
FAKE_PYTHON = """#!/usr/bin/env bash
echo "WARNING: a wall of packaging warnings about $*" >&2
case "$*" in
  *"-e .[dev]"*) [ -n "${FAIL_INSTALL:-}" ] && { echo "ERROR: no matching distribution" >&2; exit 1; } ;;
esac
exit 0
"""


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(SETUP, tmp_path / "scripts" / "setup.sh")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON, encoding="utf-8")
    python.chmod(0o755)
    return tmp_path


def run_setup(layout: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = layout / "scripts" / "setup.sh"
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env})


def test_a_working_setup_prints_nothing(layout: Path) -> None:
    done = run_setup(layout)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_a_failing_step_prints_its_log_and_exits_1(layout: Path) -> None:
    done = run_setup(layout, FAIL_INSTALL="1")
    assert done.returncode == 1
    assert "setup failed: .venv/bin/python -m pip install" in done.stderr
    assert "ERROR: no matching distribution" in done.stderr and "WARNING: a wall" in done.stderr
