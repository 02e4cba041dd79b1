"""Fixtures every test package may use: the test's own SQLite database (or PostgreSQL when
LLMD4REC_TEST_PG_URL is set) and a store opened on it. tests/tui overrides both with a filled copy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmd4rec_tui.store.db import Store, open_store
from tests.fixtures.databases import db_url, postgres_url

__all__ = ["db_url", "postgres_url"]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.close()
