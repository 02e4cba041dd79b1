"""A filled database built once per session and copied per test (each test may write)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from llmd4rec_tui.store.db import Store, open_store
from tests.tui.dbfill import fill


def build_template(path: Path, filler: Callable[[Store], dict[str, int]]) -> tuple[Path, dict[str, int]]:
    """A database filled once, with everything in its main file, ready to be copied."""
    store = open_store(f"sqlite:///{path}")
    ids = filler(store)
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, ids


@pytest.fixture(scope="session")
def filled_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    return build_template(tmp_path_factory.mktemp("template") / "runs.db", fill)


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
