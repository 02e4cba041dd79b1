from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.figures.figures_fill import fill_figures
from tests.tui.conftest import build_template


@pytest.fixture(scope="session")
def figures_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    return build_template(tmp_path_factory.mktemp("figures") / "runs.db", fill_figures)


@pytest.fixture
def figures_db(figures_template: tuple[Path, dict[str, int]], tmp_path: Path) -> tuple[str, dict[str, int]]:
    """(the database's path, run ids by name): a copy per test."""
    template, ids = figures_template
    path = tmp_path / "runs.db"
    shutil.copy(template, path)
    return str(path), ids
