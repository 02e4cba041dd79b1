"""A database as the first release left it, for migration and import tests."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.schema import alembic_config


def at_baseline(url: str, revision: str = "0001") -> Store:
    """Schema revision 0001 (no last_checkpoint column), or a later one, one succeeded run (id 1) in it."""
    store = Store(url)
    config = alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO runs (name, source_path, config_toml, config_json, config_hash, dataset, seed, tags,"
                " notes, status, priority, enqueued_at, attempts, max_attempts, cancel_requested, run_dir,"
                " environment, protocol) VALUES ('old', '', '', '{}', 'abc', 'synthetic', 0, '[]', '', 'succeeded',"
                " 0, '2026-01-01 00:00:00', 1, 3, false, '', '{}', '{}')"
            )
        )
    return store
