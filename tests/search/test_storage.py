"""Optuna's tables beside ours: both open the database, our migrations keep alembic_version,
and the foreign-database check tells a database of Optuna's alone from ours."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.storages._rdb import models
from sqlalchemy import create_engine, inspect

from llmd4rec_tui.search.coordinator import create_study, read_study
from llmd4rec_tui.search.study_file import load_study
from llmd4rec_tui.store.db import StoreError, open_store
from llmd4rec_tui.store.schema import OPTUNA_TABLES, current_revisions, head_revisions
from llmd4rec_tui.store.views import open_for_reading
from tests.search.study_files import write_study


def test_the_optuna_table_list_is_the_pinned_optunas() -> None:
    assert set(models.BaseModel.metadata.tables) == OPTUNA_TABLES


def test_a_study_lives_beside_the_runs_and_leaves_our_schema_alone(db_url: str, tmp_path: Path) -> None:
    store = open_store(db_url)
    create_study(store, load_study(write_study(tmp_path)))
    store.close()
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= OPTUNA_TABLES | {"runs", "alembic_version"}
        assert current_revisions(connection) == head_revisions()  # Optuna stamped nothing of its own
    engine.dispose()
    again = open_store(db_url)  # the foreign check and the migrations accept Optuna's tables
    assert read_study(again, "fake").spec.n_trials == 4
    again.close()
    open_for_reading(db_url).close()


def test_a_database_of_optunas_alone_is_refused_as_foreign(db_url: str) -> None:
    optuna.create_study(study_name="theirs", storage=db_url)
    with pytest.raises(StoreError, match=r"is not an llmd4rec database .*studies.*nothing was changed"):
        open_store(db_url)
