"""A filled database built once per session and copied per test (each test may write)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmd4rec_tui.store.db import Store, open_store
from tests.tui.dbfill import fill


@pytest.fixture(scope="session")
def filled_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("template") / "runs.db"
    store = open_store(f"sqlite:///{path}")
    ids = fill(store)
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    store.close()
    return path, ids


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


@pytest.fixture
def store(db_url: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """The test's database, opened after the filled copy is in place when the test wants one."""
    if "run_ids" in request.fixturenames:
        request.getfixturevalue("run_ids")
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def run_ids(filled_template: tuple[Path, dict[str, int]], db_url: str) -> dict[str, int]:
    """The standard runs (see dbfill.fill) in this test's own copy of the database."""
    template, ids = filled_template
    shutil.copyfile(template, db_url.removeprefix("sqlite:///"))
    return dict(ids)
