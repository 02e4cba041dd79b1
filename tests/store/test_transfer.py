"""store/transfer.py on its own: what it copies, which URLs are one database, older sources.

The command end to end (rows, read model, results, refusals) is in tests/cli/test_import_cli.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.queries import get_run, run_events
from llmd4rec_tui.store.transfer import ImportedRun, child_tables, choose_runs, import_runs, same_database
from tests.store.baseline import at_baseline


def test_every_table_with_rows_of_a_run_is_copied() -> None:
    assert {(table.name, key.name) for table, key in child_tables()} == {
        ("run_summaries", "run_id"),
        ("events", "run_id"),
        ("metrics", "run_id"),
        ("histograms", "run_id"),
        ("user_ranks", "run_id"),
    }


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("sqlite:///{tmp}/a.db", "sqlite:///{tmp}/./a.db", True),
        ("sqlite:///{tmp}/a.db", "sqlite:///{tmp}/b.db", False),
        ("sqlite:///:memory:", "sqlite:///:memory:", False),
        ("postgresql+psycopg://u:p@db/x", "postgresql://other@db/x", True),
        ("postgresql://db/x", "postgresql://db/y", False),
        ("postgresql://db:5433/x", "postgresql://db/x", False),
        ("sqlite:///x", "postgresql://localhost/x", False),
    ],
)
def test_same_database(tmp_path: Path, a: str, b: str, same: bool) -> None:
    assert same_database(a.format(tmp=tmp_path), b.format(tmp=tmp_path)) is same


def _at_baseline(url: str) -> Store:
    """The first release's schema with one run and one event of it."""
    store = at_baseline(url)
    with store.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO events (run_id, attempt, type, ts, payload) VALUES (1, 1, 'log', 1.5, '{\"x\": 1}')")
        )
    return store


def test_a_source_with_an_older_schema_imports_with_defaults(store: Store, tmp_path: Path) -> None:
    source = _at_baseline(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        assert choose_runs(source) == [1]
        assert import_runs(source, store, [1]) == [ImportedRun(1, 1, "old", "succeeded", skipped=False)]
        assert import_runs(source, store, [1]) == [ImportedRun(1, 1, "old", "succeeded", skipped=True)]
    finally:
        source.close()
    with store.session() as session:
        detail = get_run(session, 1)
        assert detail is not None and detail.last_checkpoint is None and detail.run.config_hash == "abc"
        assert [(e.type, e.ts, e.payload) for e in run_events(session, 1)] == [("log", 1.5, {"x": 1})]
