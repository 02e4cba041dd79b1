"""The read-only queries behind the screens on a real SQLite file filled through the worker's ingestor."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from llmd4rec_tui.store.db import Store, StoreError
from llmd4rec_tui.store.models import Run
from llmd4rec_tui.store.queries import get_run, list_workers, run_events, run_page
from llmd4rec_tui.store.run_filter import FilterError, RunFilter, RunSort
from llmd4rec_tui.store.views import compare_inputs, open_for_reading, run_ids_with_tag
from tests.tui.dbfill import NOW


def test_filter_parses_keys_and_free_text() -> None:
    parsed = RunFilter.parse("status:running,failed tag:paper dataset:ml-1m kd lr")
    assert parsed == RunFilter(("running", "failed"), "paper", "ml-1m", "kd lr")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("colour:red", "filter 'colour:red': unknown key 'colour', expected one of status, tag, dataset"),
        ("status:runing", "filter 'status:runing': unknown status 'runing', expected queued, held, running"),
        ("tag:", "filter 'tag:': tag needs a value"),
    ],
)
def test_a_bad_filter_names_the_token_and_what_is_expected(query: str, message: str) -> None:
    with pytest.raises(FilterError, match=message.replace("(", r"\(")):
        RunFilter.parse(query)


def test_an_unknown_sort_column_is_refused() -> None:
    with pytest.raises(ValueError, match="sort column 'speed'"):
        RunSort("speed")


def test_list_runs_filters_sorts_and_pages(store: Store, run_ids: dict[str, int]) -> None:
    with store.session() as session:
        everything = run_page(session)
        assert everything.total == 6
        assert [r.id for r in everything.rows] == sorted(run_ids.values(), reverse=True)
        paper = run_page(session, RunFilter(tag="paper"))
        assert {r.id for r in paper.rows} == {run_ids["base0"], run_ids["base1"], run_ids["running"]}
        failed_or_held = run_page(session, RunFilter.parse("status:failed,held"))
        assert {r.status for r in failed_or_held.rows} == {"failed", "held"}
        by_text = run_page(session, RunFilter(text="HOT"))
        assert [r.id for r in by_text.rows] == [run_ids["failed"]]
        best_crm = run_page(session, where=RunFilter(statuses=("succeeded",)), sort=RunSort("crm", descending=True))
        assert [r.id for r in best_crm.rows] == [run_ids["base1"], run_ids["base0"]]
        second_page = run_page(session, sort=RunSort("id", descending=False), offset=2, limit=2)
        assert [r.id for r in second_page.rows] == [3, 4] and second_page.total == 6


def test_rows_carry_progress_metrics_and_the_loss_trail(store: Store, run_ids: dict[str, int]) -> None:
    with store.session() as session:
        (running,) = run_page(session, RunFilter(statuses=("running",))).rows
    assert (running.round, running.phase, running.epoch) == (1, "crm", 1)
    assert running.crm_ndcg10 == pytest.approx(0.09)
    assert len(running.loss_trail) == 21 and running.loss_trail[0] > running.loss_trail[-1]
    assert running.elapsed_s(NOW) == pytest.approx(120)


def test_a_start_ahead_of_this_clock_shows_as_no_time_yet(store: Store, run_ids: dict[str, int]) -> None:
    from llmd4rec_tui.formatting import format_duration as format_elapsed

    with store.session() as session:
        (running,) = run_page(session, RunFilter(statuses=("running",))).rows
    early = NOW - timedelta(minutes=10)  # another worker's clock runs ahead of this one
    assert running.elapsed_s(early) == pytest.approx(-480)
    assert format_elapsed(running.elapsed_s(early)) == "0:00" and format_elapsed(3725.0) == "1:02:05"


def test_live_workers_count_their_running_runs(store: Store, run_ids: dict[str, int]) -> None:
    with store.session() as session:
        (worker,) = list_workers(session, live_only=True)
    assert worker.running == 1 and worker.heartbeat_age_s(NOW) == pytest.approx(3)


def test_get_run_and_run_events_after(store: Store, run_ids: dict[str, int]) -> None:
    with store.session() as session:
        info = get_run(session, run_ids["failed"])
        assert info is not None
        assert info.protocol["ranking"] == "full" and info.config["train"]["crm_lr"] == 0.05
        first = run_events(session, run_ids["failed"], limit=10)
        rest = run_events(session, run_ids["failed"], after_id=first[-1].id)
        assert get_run(session, 999) is None
    assert len(first) == 10 and first[0].type == "run_started"
    assert rest[-1].type == "run_failed" and "NaN" in rest[-1].payload["message"]
    assert len(first) + len(rest) == 52


def test_compare_inputs_keep_the_order_asked_and_name_missing_ids(store: Store, run_ids: dict[str, int]) -> None:
    with store.session() as session:
        runs = compare_inputs(session, [run_ids["base1"], run_ids["base0"]])
        assert [r.id for r in runs] == [run_ids["base1"], run_ids["base0"]]
        assert runs[1].metrics["llm"]["ndcg@10"] == pytest.approx(0.125)
        assert runs[1].config["train.crm_lr"] == 0.005
        tagged = [run_ids["base0"], run_ids["base1"], run_ids["running"]]
        assert run_ids_with_tag(session, "paper") == (tagged, [])  # no search trials among them
        with pytest.raises(KeyError, match="no run with id 77, 78"):
            compare_inputs(session, [run_ids["base0"], 77, 78])


def test_open_for_reading_explains_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no database at .*nope\.db: add runs with `llmd4rec queue add"):
        open_for_reading(f"sqlite:///{tmp_path / 'nope.db'}")
    assert not (tmp_path / "nope.db").exists()


def test_open_for_reading_explains_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is a text file, not SQLite " * 100)
    with pytest.raises(StoreError, match=r"cannot open the database .*notes\.db: file is not a database"):
        open_for_reading(f"sqlite:///{path}")


def test_open_for_reading_explains_a_foreign_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    expected = r"is not an llmd4rec database \(no events, run_summaries, runs, workers tables\)"
    with pytest.raises(StoreError, match=expected):
        open_for_reading(f"sqlite:///{path}")


def test_open_for_reading_refuses_a_newer_schema(store: Store, db_url: str) -> None:
    with store.write() as session:
        session.connection().exec_driver_sql("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(StoreError, match="schema revision 9999_from_the_future is newer than this llmd4rec knows"):
        open_for_reading(db_url)


def test_status_cells_tell_infrastructure_failures_apart(store: Store, run_ids: dict[str, int]) -> None:
    from llmd4rec_tui.widgets.runs_table import row_cells

    with store.write() as session:
        run = session.get(Run, run_ids["failed"])
        assert run is not None
        run.failure_kind = "oom"
    with store.session() as session:
        rows = {r.id: r for r in run_page(session).rows}
    assert str(row_cells(rows[run_ids["failed"]], NOW, False)["status"]) == "failed·oom"
    assert str(row_cells(rows[run_ids["running"]], NOW, True)["mark"]) == "●"
