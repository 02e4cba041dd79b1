from __future__ import annotations

from pathlib import Path

import pytest

from llmd4rec_tui.store.db import Store, open_store
from tests.tui.dbfill import fill


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


@pytest.fixture
def store(db_url: str) -> Store:
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def run_ids(store: Store) -> dict[str, int]:
    return fill(store)
