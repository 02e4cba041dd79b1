"""Schema versioning: Alembic upgrades applied on open, newer databases refused.

Every process that opens the store calls ``upgrade_schema``; the common case (already at
head) is one cheap read. Upgrading takes the database's write lock (SQLite: BEGIN
IMMEDIATE; PostgreSQL: an advisory lock) so workers starting together migrate once.
"""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from llmd4rec_tui.store.db import IMMEDIATE, Store, StoreError, display_url

SCRIPT_LOCATION = "llmd4rec_tui.store:migrations"
#: The revision that matches databases created before migrations existed (plain create_all).
BASELINE = "0001"
#: The tables of the baseline: a database without alembic_version is adopted only if it has all of them.
BASELINE_TABLES = frozenset({"runs", "run_summaries", "events", "metrics", "histograms", "workers"})
_PG_MIGRATION_LOCK = 7_104_221
#: The tables of an Optuna study storage (`llmd4rec search`), which may sit beside ours
#: (the pinned Optuna's models; a test checks the list against them).
OPTUNA_TABLES = frozenset(
    {
        "studies",
        "study_directions",
        "study_user_attributes",
        "study_system_attributes",
        "trials",
        "trial_user_attributes",
        "trial_system_attributes",
        "trial_params",
        "trial_values",
        "trial_intermediate_values",
        "trial_heartbeats",
        "version_info",
    }
)


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


@cache
def _scripts() -> tuple[frozenset[str], frozenset[str]]:
    script = ScriptDirectory.from_config(alembic_config())
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return known, frozenset(script.get_heads())


def known_revisions() -> frozenset[str]:
    """Every revision this code ships."""
    return _scripts()[0]


def head_revisions() -> frozenset[str]:
    return _scripts()[1]


def current_revisions(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def _refuse_unknown(store: Store, current: frozenset[str]) -> None:
    unknown = current - known_revisions()
    if unknown:
        raise StoreError(
            f"{display_url(store.url)}: schema revision {', '.join(sorted(unknown))} is newer than this "
            f"llmd4rec knows (newest: {', '.join(sorted(head_revisions()))}); upgrade llmd4rec to use this "
            "database, or pass another --db"
        )


def refuse_foreign(connection: Connection, url: str) -> None:
    """StoreError for a database that holds tables but is neither ours nor our pre-migration
    layout. Optuna's study tables beside ours are fine; a database of Optuna's alone (its
    revision in alembic_version, no runs) is foreign."""
    tables = set(inspect(connection).get_table_names())
    if not tables or tables >= BASELINE_TABLES:
        return
    if "alembic_version" in tables and not (tables - {"alembic_version"} <= OPTUNA_TABLES):
        return  # ours, at some revision (one newer than this code is refused by its number)
    if "alembic_version" in tables and current_revisions(connection) & known_revisions():
        return  # ours, before the first table was created
    shown = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
    raise StoreError(
        f"{display_url(url)} is not an llmd4rec database (it holds other tables: {shown}); "
        "nothing was changed. Pass --db with a new file or an llmd4rec database"
    )


def require_head(connection: Connection, url: str) -> None:
    """StoreError unless the database is at the newest revision (for one nothing can upgrade)."""
    current = current_revisions(connection)
    if current != head_revisions():
        shown = ", ".join(sorted(current)) or "none"
        raise StoreError(
            f"{display_url(url)} is read-only and at schema revision {shown}, not this llmd4rec's "
            f"{', '.join(sorted(head_revisions()))}; open it once where it can be written (or with a "
            "matching llmd4rec) to read it"
        )


def upgrade_schema(store: Store) -> None:
    """Bring the database to the newest revision (creating it when empty)."""
    heads = head_revisions()
    with store.engine.connect() as connection:
        current = current_revisions(connection)
        if current - known_revisions():
            refuse_foreign(connection, store.url)
        connection.rollback()
    _refuse_unknown(store, current)
    if current == heads:
        return
    with store.engine.connect().execution_options(**{IMMEDIATE: True}) as connection, connection.begin():
        if store.dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        current = current_revisions(connection)  # another process may have migrated meanwhile
        if current - known_revisions():
            refuse_foreign(connection, store.url)  # an Optuna-only database is foreign, not newer
        _refuse_unknown(store, current)
        if current == heads:
            return
        config = alembic_config()
        config.attributes["connection"] = connection
        if not current:
            refuse_foreign(connection, store.url)  # PostgreSQL; a SQLite file was checked read-only before
            if set(inspect(connection).get_table_names()) >= BASELINE_TABLES:
                command.stamp(config, BASELINE)  # a database from before migrations: same tables as the baseline
        command.upgrade(config, "head")
