"""`llmd4rec runs import`: finished runs copied between real databases through the real CLI.

Sources are SQLite files filled through `queue add` and the worker's ingestor
(tests/tui/dbfill.py, tests/tui/results_fill.py). Targets hold two local runs first, so every
imported run gets an id other than its source id and a missed remapping shows.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from llmd4rec_tui.cli import app
from llmd4rec_tui.store import transfer
from llmd4rec_tui.store.db import Store, open_store
from llmd4rec_tui.store.models import Base
from llmd4rec_tui.store.views import open_for_reading
from tests.fixtures.databases import ENV_PG, postgres_url
from tests.tui.dbfill import NOW, add_run, fill
from tests.tui.results_fill import TAG, fill_results

__all__ = ["postgres_url"]

runner = CliRunner()
CHILD_TABLES = ("run_summaries", "events", "metrics", "histograms")
#: dbfill.fill's runs: 1, 2 succeeded (tag paper), 3 failed, 4 running (tag paper), 5 queued, 6 held.
BASE0, BASE1, FAILED, RUNNING, QUEUED, HELD = 1, 2, 3, 4, 5, 6


def cli(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def execute(url: str, sql: str, **params: Any) -> None:
    store = open_store(url)
    try:
        with store.engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        store.close()


def _template(path: Path, filler: Callable[[Store], dict[str, int]]) -> Path:
    store = open_store(f"sqlite:///{path}")
    filler(store)
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _template(tmp_path_factory.mktemp("filled") / "runs.db", fill)


@pytest.fixture(scope="module")
def results_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _template(tmp_path_factory.mktemp("results") / "runs.db", fill_results)


@pytest.fixture
def source(filled: Path, tmp_path: Path) -> str:
    """A copy of the filled database: each test may change its source."""
    (tmp_path / "source").mkdir()
    return f"sqlite:///{shutil.copy(filled, tmp_path / 'source' / 'runs.db')}"


def _with_local_runs(url: str) -> str:
    store = open_store(url)
    for seed in (0, 1):
        add_run(store, "local", seed=seed, tags=["local"], status="succeeded", minutes_ago=5, finished_at=NOW)
    store.close()
    return url


@pytest.fixture
def target(tmp_path: Path) -> str:
    """A database holding two runs of its own (ids 1 and 2)."""
    return _with_local_runs(f"sqlite:///{tmp_path / 'target.db'}")


def _utc(value: Any) -> Any:
    """Datetimes as UTC instants, ISO strings with an offset too: back ends render zones differently."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)
    if isinstance(value, str) and len(value) >= 25 and value[10:11] == "T" and value[-6] in "+-":
        return datetime.fromisoformat(value).astimezone(UTC)
    if isinstance(value, dict):
        return {k: _utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utc(v) for v in value]
    return value


def stored(url: str, run_id: int) -> dict[str, Any]:
    """Every row the database holds about a run, less its ids, in insertion order."""
    store = open_for_reading(url)
    try:
        with store.engine.connect() as connection:
            runs = Base.metadata.tables["runs"]
            run = connection.execute(select(runs).where(runs.c.id == run_id)).one()._asdict()
            out: dict[str, Any] = {"runs": {k: v for k, v in run.items() if k != "id"}}
            for name in CHILD_TABLES:
                table = Base.metadata.tables[name]
                stmt = select(table).where(table.c.run_id == run_id).order_by(*table.primary_key)
                rows = connection.execute(stmt).mappings()
                out[name] = [{k: v for k, v in row.items() if k not in ("id", "run_id")} for row in rows]
    finally:
        store.close()
    return _utc(out)


def shown(url: str, run_id: int) -> dict[str, Any]:
    """`runs show --json`, less the run's id."""
    code, out, err = cli(url, "runs", "show", str(run_id), "--json")
    assert code == 0, err
    detail = json.loads(out)
    assert detail["run"].pop("id") == run_id
    return _utc(detail)


def counts(url: str) -> dict[str, int]:
    store = open_for_reading(url)
    try:
        with store.engine.connect() as connection:
            return {name: connection.scalar(select(func.count()).select_from(Base.metadata.tables[name])) or 0
                    for name in ("runs", *CHILD_TABLES)}  # fmt: skip
    finally:
        store.close()


def imported(target: str, *args: str) -> list[dict[str, Any]]:
    code, out, err = cli(target, "runs", "import", *args, "--json")
    assert code == 0, err
    return list(json.loads(out))


def expected_copy(source: str, source_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rows and `runs show` a copy must have: the source's, except that a retryable
    copy keeps no path into the source's files."""
    rows, detail = stored(source, source_id), shown(source, source_id)
    assert all(rows[name] for name in CHILD_TABLES), "the source run should have rows of every kind"
    if rows["runs"]["status"] in transfer.RETRYABLE:
        rows["runs"].update(run_dir="", last_checkpoint=None)
        detail.update(run_dir="", last_checkpoint=None)
    return rows, detail


def assert_same_runs(source: str, target: str, pairs: dict[int, int], new_ids: bool = True) -> None:
    for source_id, new_id in pairs.items():
        assert new_id != source_id or not new_ids
        rows, detail = expected_copy(source, source_id)
        assert stored(target, new_id) == rows
        assert shown(target, new_id) == detail


def test_import_by_id_copies_the_run_and_everything_recorded_about_it(source: str, target: str) -> None:
    rows = imported(target, source, str(FAILED), str(BASE0))
    assert rows == [
        {"source_id": BASE0, "id": 3, "name": "sasrec-kd", "status": "succeeded", "skipped": False},
        {"source_id": FAILED, "id": 4, "name": "sasrec-kd-hot", "status": "failed", "skipped": False},
    ]
    assert_same_runs(source, target, {BASE0: 3, FAILED: 4})
    assert shown(target, 4)["run"]["error"] == "FloatingPointError: KL divergence is NaN at step 23"
    # A retry of the failed copy must not resume from the source's checkpoint.
    assert shown(source, FAILED)["last_checkpoint"] and shown(target, 4)["last_checkpoint"] is None
    assert shown(target, 3)["last_checkpoint"] == shown(source, BASE0)["last_checkpoint"]
    assert shown(target, 1)["run"]["tags"] == ["local"]  # the target's own runs are untouched


def test_the_table_names_source_and_new_ids(source: str, target: str) -> None:
    code, out, _ = cli(target, "runs", "import", source, str(BASE0))
    assert code == 0 and "sasrec-kd" in out and "succeeded" in out
    assert "imported 1 run(s)" in out and "skipped 0" in out
    code, out, _ = cli(target, "runs", "import", source, str(BASE0))
    assert code == 0 and "skipped (already here as 3)" in out and "imported 0 run(s)" in out


def test_import_by_tag_and_ids_is_their_union(source: str, target: str) -> None:
    # the running run has finished since
    execute(source, "UPDATE runs SET status = 'cancelled', finished_at = :at WHERE id = :id", at=NOW, id=RUNNING)
    rows = imported(target, source, str(FAILED), "--tag", "paper")
    assert [(r["source_id"], r["id"]) for r in rows] == [(BASE0, 3), (BASE1, 4), (FAILED, 5), (RUNNING, 6)]
    assert_same_runs(source, target, {BASE0: 3, BASE1: 4, FAILED: 5})
    assert shown(target, 6)["run"]["status"] == "cancelled"


def test_without_a_selection_every_finished_run_is_imported(source: str, target: str) -> None:
    rows = imported(target, source)
    assert [(r["source_id"], r["id"], r["status"]) for r in rows] == [
        (BASE0, 3, "succeeded"),
        (BASE1, 4, "succeeded"),
        (FAILED, 5, "failed"),
    ]


def test_importing_again_skips_what_is_already_here(source: str, target: str) -> None:
    first = imported(target, source)
    before = counts(target)
    again = imported(target, source, str(FAILED), str(BASE1), str(BASE0))
    assert [(r["source_id"], r["id"], r["skipped"]) for r in again] == [(r["source_id"], r["id"], True) for r in first]
    assert counts(target) == before


def test_results_and_compare_over_imported_runs_match_the_source(results_db: Path, tmp_path: Path) -> None:
    source, target = f"sqlite:///{results_db}", _with_local_runs(f"sqlite:///{tmp_path / 'target.db'}")
    mapping = {r["source_id"]: r["id"] for r in imported(target, source)}
    assert len(mapping) == 6 and all(new != old for old, new in mapping.items())  # the running one-way stays behind
    for fmt in ("table", "md"):
        on_source = cli(source, "runs", "results", "--tag", TAG, "--format", fmt)
        assert on_source[0] == 0 and "LLMD4Rec" in on_source[1]
        assert cli(target, "runs", "results", "--tag", TAG, "--format", fmt) == on_source
    code, out, _ = cli(source, "runs", "compare", *map(str, mapping), "--format", "json")
    expected = json.loads(out)
    for table in expected["tables"]:
        for row in table["rows"]:
            row["run_ids"] = [mapping[i] for i in row["run_ids"]]
    code, out, _ = cli(target, "runs", "compare", *map(str, mapping.values()), "--format", "json")
    assert code == 0 and json.loads(out) == expected


@pytest.mark.parametrize("ids", [[BASE0, RUNNING, QUEUED, HELD], ["--tag", "paper"]])
def test_unfinished_runs_are_refused_and_nothing_is_written(source: str, target: str, ids: list[Any]) -> None:
    before = counts(target)
    code, _, err = cli(target, "runs", "import", source, *map(str, ids))
    message = " ".join(err.split())
    assert code == 1 and "run 4 (sasrec-kd-lr01) is running" in message and "nothing imported" in message
    if "--tag" not in ids:
        assert "run 5 (gru4rec-kd) is queued, run 6 (gru4rec-kd-big) is held" in message
    assert f"name them: {BASE0}" in message
    assert counts(target) == before


def test_an_error_half_way_rolls_the_whole_import_back(
    source: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy, calls = transfer._copy_run, []

    def copy_then_fail(*args: Any) -> int:
        calls.append(copy(*args))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return calls[-1]

    monkeypatch.setattr(transfer, "_copy_run", copy_then_fail)
    before = counts(target)
    result = runner.invoke(app, ["--db", target, "runs", "import", source])
    assert isinstance(result.exception, RuntimeError) and len(calls) == 2
    assert counts(target) == before


def test_unknown_ids_are_refused(source: str, target: str) -> None:
    before = counts(target)
    code, _, err = cli(target, "runs", "import", source, "99", str(BASE0), "98")
    assert code == 1 and "no run with id 98, 99 in the source" in " ".join(err.split())
    code, _, err = cli(target, "runs", "import", source, "--tag", "nosuch")
    assert code == 1 and "--tag 'nosuch': no run in" in " ".join(err.split())
    assert counts(target) == before


def _not_llmd4rec(path: Path) -> None:
    execute(f"sqlite:///{path}", "DROP TABLE workers")


def _newer(path: Path) -> None:
    execute(f"sqlite:///{path}", "UPDATE alembic_version SET version_num = '9999'")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (None, "no database at {path} to import from"),
        (_not_llmd4rec, "is not an llmd4rec database (no workers tables)"),
        (_newer, "schema revision 9999 is newer than this llmd4rec knows"),
    ],
)
def test_a_source_that_is_no_usable_database_is_refused(
    tmp_path: Path, make: Callable[[Path], None] | None, message: str
) -> None:
    path, target = tmp_path / "other.db", tmp_path / "target.db"
    if make is not None:
        make(path)
    code, out, err = cli(str(target), "runs", "import", str(path))
    assert code == 1 and out == ""
    assert message.format(path=path.resolve()) in " ".join(err.split())
    assert not target.exists()  # refused before the target is created


def test_the_target_itself_is_refused(target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = counts(target)
    for same in (target, "target.db", f"sqlite:///{tmp_path}/./target.db"):
        code, _, err = cli(target, "runs", "import", same)
        assert code == 2 and "is the --db database itself" in err
    assert counts(target) == before


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get(ENV_PG), reason=f"{ENV_PG} not set")
def test_from_sqlite_into_postgresql_and_back(source: str, postgres_url: str, tmp_path: Path) -> None:
    """Serial ids, JSON columns and aware datetimes on PostgreSQL, in a session zone far from
    UTC so a naive datetime bound anywhere would shift by nine hours."""
    pg = make_url(postgres_url).update_query_dict({"options": "-c timezone=Asia/Tokyo"})
    target = _with_local_runs(pg.render_as_string(hide_password=False))
    rows = imported(target, source)
    pairs = {r["source_id"]: r["id"] for r in rows}
    assert pairs == {BASE0: 3, BASE1: 4, FAILED: 5}
    assert_same_runs(source, target, pairs)
    assert all(r["skipped"] for r in imported(target, source))  # the attempt key matches across back ends
    store = open_store(target)
    later = add_run(store, "after", status="succeeded", minutes_ago=1, finished_at=NOW + timedelta(minutes=1))
    store.close()
    assert later == 6  # the id sequence continues after the imported runs
    back = f"sqlite:///{tmp_path / 'back.db'}"
    rows = imported(back, target, *map(str, pairs.values()))
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert_same_runs(source, back, dict(zip(pairs, (1, 2, 3), strict=True)), new_ids=False)
