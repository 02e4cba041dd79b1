"""Optuna's RDB storage in the runs' database, beside our tables.

Optuna creates twelve tables of its own (OPTUNA_TABLES) and, on a database it finds
without any, records its schema in ``alembic_version``: the table our migrations use. We
keep that table ours: the store is always opened (and migrated) first, so Optuna finds
our revision there and writes nothing to it, and its schema check is skipped because it
would read our revision as its own (the pinned Optuna's schema is checked here instead,
through its ``version_info`` table). Plain `optuna` tools must open such a database the
same way: ``RDBStorage(url, skip_compatibility_check=True)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import inspect

from llmd4rec_tui.store.db import Store, StoreError, display_url
from llmd4rec_tui.store.schema import current_revisions, known_revisions

if TYPE_CHECKING:
    from optuna.storages import RDBStorage


def optuna_storage(store: Store) -> RDBStorage:
    """The study storage on the store's URL; StoreError if its tables are of another Optuna schema."""
    import optuna
    from optuna.storages import RDBStorage
    from optuna.storages._rdb import models

    with store.engine.connect() as connection:
        ours = current_revisions(connection) & known_revisions()
        tables = set(inspect(connection).get_table_names())
        connection.rollback()
    if not ours:  # Optuna would take alembic_version for itself
        raise StoreError(f"{display_url(store.url)}: open it as an llmd4rec database before adding a study")
    kwargs = {"connect_args": {"timeout": 30}} if store.dialect == "sqlite" else {"pool_pre_ping": True}
    storage = RDBStorage(store.url, engine_kwargs=kwargs, skip_compatibility_check=True)
    if "version_info" in tables:
        with storage.engine.connect() as connection:
            row = connection.exec_driver_sql("SELECT schema_version, library_version FROM version_info").first()
        if row is not None and int(row[0]) != models.SCHEMA_VERSION:
            raise StoreError(
                f"{display_url(store.url)}: its studies were written by Optuna {row[1]} (schema {row[0]}); "
                f"this llmd4rec uses Optuna {optuna.__version__} (schema {models.SCHEMA_VERSION})"
            )
    return storage
