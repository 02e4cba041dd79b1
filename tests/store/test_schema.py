"""Migrations on open: fresh, old and pre-migration databases upgrade; newer ones are refused."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from llmd4rec_tui.store.db import Store, StoreError, open_store
from llmd4rec_tui.store.schema import head_revisions, known_revisions
from tests.store.baseline import at_baseline


def _columns(store: Store, table: str) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns(table)}


def test_fresh_database_is_created_at_head(db_url: str) -> None:
    store = open_store(db_url)
    with store.engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert {revision} == set(head_revisions())
    assert {"runs", "run_summaries", "events", "metrics", "histograms", "workers"} <= set(
        inspect(store.engine).get_table_names()
    )
    assert "last_checkpoint" in _columns(store, "runs")
    store.close()
    open_store(db_url).close()  # a second open finds it at head and changes nothing


def test_old_database_upgrades_in_place_keeping_its_runs(db_url: str) -> None:
    old = at_baseline(db_url)
    assert "last_checkpoint" not in _columns(old, "runs")
    old.close()
    store = open_store(db_url)
    assert "last_checkpoint" in _columns(store, "runs")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT name, status FROM runs")).all() == [("old", "succeeded")]
    store.close()


def test_database_from_before_migrations_is_adopted(db_url: str) -> None:
    old = at_baseline(db_url)
    with old.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    old.close()
    store = open_store(db_url)
    assert "last_checkpoint" in _columns(store, "runs")
    store.close()


def test_newer_database_is_refused_with_a_clear_message(db_url: str) -> None:
    open_store(db_url).close()
    store = Store(db_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    store.close()
    with pytest.raises(StoreError, match=r"9999_future is newer than this llmd4rec knows.*upgrade llmd4rec"):
        open_store(db_url)
    assert "9999_future" not in known_revisions()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'runs.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert busy_timeout is not None and busy_timeout >= 1000
    store.close()


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_text("not a database, just text " * 100)
    with pytest.raises(StoreError, match=r"cannot open the database .*runs.db"):
        open_store(f"sqlite:///{path}")


def test_an_unusable_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match=r"nosuchdriver.*not a usable SQLAlchemy URL"):
        open_store("nosuchdriver://x/y")


def test_a_database_in_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the database"):
        open_store(f"sqlite:///{tmp_path / 'missing' / 'runs.db'}")


def test_migrations_ship_inside_the_package() -> None:
    import llmd4rec_tui.store.migrations as migrations

    folder = Path(migrations.__file__).parent
    assert (folder / "env.py").exists() and (folder / "alembic.ini").exists()
    assert (folder / "script.py.mako").exists()
    assert sqlite3.sqlite_version_info >= (3, 35)  # RETURNING, used by the claim


def test_processes_opening_a_fresh_database_together_migrate_it_once(db_url: str) -> None:
    code = "import sys; from llmd4rec_tui.store.db import open_store; open_store(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    store = open_store(db_url)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store.close()


def test_0005_adds_cluster_jobs_and_counts_no_preemptions_for_old_runs(db_url: str) -> None:
    from alembic import command

    from llmd4rec_tui.store.schema import alembic_config

    at_baseline(db_url, revision="0004").close()
    store = open_store(db_url)
    config = alembic_config()
    assert "cluster_jobs" in inspect(store.engine).get_table_names()
    assert "cluster_job" in _columns(store, "workers")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT name, preemptions FROM runs")).all() == [("old", 0)]
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert "cluster_jobs" not in inspect(store.engine).get_table_names()
    assert "preemptions" not in _columns(store, "runs")
    store.close()
