"""The Results screen: opened from the Runs screen, its tables, exports equal to
`llmd4rec runs results`, the empty state, the unfinished toggle and the live refresh."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input
from typer.testing import CliRunner

import llmd4rec_tui.cli.results_cmd  # noqa: F401  (attaches `runs results`)
from llmd4rec_tui.app import Llmd4recApp
from llmd4rec_tui.cli import app as cli_app
from llmd4rec_tui.screens.help_screen import HelpScreen
from llmd4rec_tui.screens.results_screen import NO_FINISHED, ResultsScreen
from llmd4rec_tui.store.db import open_store
from llmd4rec_tui.store.models import Run
from llmd4rec_tui.widgets.results_view import ResultsView
from llmd4rec_tui.widgets.runs_table import RunsTable
from tests.tui.conftest import build_template
from tests.tui.pilot_helpers import build_app, wait_for
from tests.tui.results_fill import TAG, add, fill_results, mutual


@pytest.fixture(scope="module")
def results_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    return build_template(tmp_path_factory.mktemp("results") / "runs.db", fill_results)


@pytest.fixture
def ids(results_template: tuple[Path, dict[str, int]], db_url: str) -> Iterator[dict[str, int]]:
    """This test's own copy of the results database."""
    template, run_ids = results_template
    shutil.copyfile(template, db_url.removeprefix("sqlite:///"))
    yield dict(run_ids)


def cli_output(db_url: str, *args: str) -> str:
    result = CliRunner().invoke(cli_app, ["--db", db_url, "runs", "results", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


async def runs_shown(pilot: Pilot[Any], count: int = 7) -> None:
    await wait_for(pilot, lambda: len(pilot.app.screen.query_one(RunsTable).run_ids) == count)


async def results_open(pilot: Pilot[Any]) -> ResultsScreen:
    """Press R on the Runs screen and wait for the first answer of the database."""
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ResultsScreen) and pilot.app.screen.loaded is not None)
    screen = pilot.app.screen
    assert isinstance(screen, ResultsScreen)
    await pilot.pause()
    return screen


def column(screen: ResultsScreen, grid_id: str, index: int = 0) -> list[Text]:
    grid: DataTable[Text] = screen.query_one(f"#{grid_id}", DataTable)
    return [grid.get_row_at(row)[index] for row in range(grid.row_count)]


def shown_text(screen: ResultsScreen) -> str:
    return " ".join(str(s.render()) for s in screen.query_one(ResultsView).query(".empty"))


async def test_the_filtered_tag_shows_methods_gains_and_curve_and_exports_equal_the_cli(
    db_url: str, ids: dict[str, int], tmp_path: Path
) -> None:
    app = build_app(db_url, export_dir=tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await runs_shown(pilot)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        screen = await results_open(pilot)
        methods = [t.plain for t in column(screen, "methods-0")]
        assert methods == ["SASRec", "E4SRec", "LLMD4Rec_C", "LLMD4Rec_L", "LLMD4Rec_C w/o w", "LLMD4Rec_L w/o w"]
        hr10 = column(screen, "methods-0", 3)
        assert hr10[2].plain == "0.3450 ± 0.0071" and "bold" in str(hr10[2].style)  # the best HR@10
        assert "bold" not in str(hr10[0].style)
        gain_methods = [t.plain for t in column(screen, "gains-0")]
        gains = dict(zip(gain_methods, column(screen, "gains-0", 4), strict=True))  # HR@10
        seeds = dict(zip(gain_methods, (t.plain for t in column(screen, "gains-0", 2)), strict=True))
        assert gains["LLMD4Rec_C"].plain == "+13.1%" and gains["LLMD4Rec_C"].style == "green"
        assert seeds["LLMD4Rec_C"] == "0,1"
        # The one-seed ablation is paired with SASRec's seed-0 run: 0.29 vs 0.30, not vs their mean.
        assert gains["LLMD4Rec_C w/o w"].plain == "-3.3%" and gains["LLMD4Rec_C w/o w"].style == "red"
        assert seeds["LLMD4Rec_C w/o w"] == "0"
        assert [t.plain for t in column(screen, "curve-0-0")] == ["0", "1", "2"]
        for key in ("m", "l", "c", "j"):
            await pilot.press(key)
        await wait_for(pilot, lambda: any(f"results-{TAG}.json" in n.message for n in app._notifications))
    for suffix, fmt in (("md", "md"), ("tex", "latex"), ("csv", "csv"), ("json", "json")):
        written = (tmp_path / f"results-{TAG}.{suffix}").read_text(encoding="utf-8")
        assert written == cli_output(db_url, "--tag", TAG, "--format", fmt)


async def test_two_groups_of_mutual_runs_get_a_round_table_each(db_url: str, ids: dict[str, int]) -> None:
    store = open_store(db_url)
    half_gamma = {"mode": "mutual", "gamma": 0.5}
    for seed in (0, 1):
        add(store, "llmd4rec-g05", seed, half_gamma, "succeeded", mutual([0.3, 0.31], [0.2, 0.25]))
    store.close()
    app = build_app(db_url)
    async with app.run_test(size=(140, 40)) as pilot:
        await runs_shown(pilot, 9)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        screen = await results_open(pilot)
        assert [t.plain for t in column(screen, "curve-0-0")] == ["0", "1", "2"]  # gamma 1, three rounds
        assert [t.plain for t in column(screen, "curve-0-1")] == ["0", "1"]
        assert [t.plain for t in column(screen, "curve-0-1", 3)] == ["0.2000 ± 0.0000", "0.2500 ± 0.0000"]
        captions = [str(c.render()) for c in screen.query(".caption")]
        assert "per round (test, mutual runs: gamma=1.0)" in captions
        assert "per round (test, mutual runs: gamma=0.5)" in captions


async def test_marked_runs_start_with_finished_ones_and_a_adds_the_unfinished(
    db_url: str, ids: dict[str, int], tmp_path: Path
) -> None:
    app = build_app(db_url, export_dir=tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await runs_shown(pilot)
        await pilot.press("space", *["down"] * 5, "space")  # the newest run (one-way, running) and the oldest
        screen = await results_open(pilot)
        assert screen.source.run_ids == (ids["sasrec0"], ids["oneway0"])
        assert [t.plain for t in column(screen, "methods-0")] == ["SASRec"]
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.loaded is not None and len(screen.loaded.run_ids) == 2)
        await pilot.pause()
        assert [t.plain for t in column(screen, "methods-0")] == ["SASRec", "One-way LLM→SASRec"]
        await pilot.press("m")
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.loaded is not None and len(screen.loaded.run_ids) == 1)
    written = (tmp_path / f"results-{ids['sasrec0']}-{ids['oneway0']}.md").read_text(encoding="utf-8")
    assert written == cli_output(db_url, str(ids["sasrec0"]), str(ids["oneway0"]), "--all", "--format", "md")


async def test_only_unfinished_runs_show_the_empty_state_and_export_nothing(
    db_url: str, ids: dict[str, int], tmp_path: Path
) -> None:
    app = build_app(db_url, export_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await runs_shown(pilot)
        await pilot.press("space")  # the one-way run, still running
        screen = await results_open(pilot)
        assert shown_text(screen) == NO_FINISHED
        await pilot.press("m")
        await wait_for(pilot, lambda: any("nothing to export" in n.message for n in app._notifications))
        await pilot.press("a")
        await wait_for(pilot, lambda: bool(screen.query(DataTable)))
        assert not list(tmp_path.glob("results-*"))


async def test_without_a_selection_a_typed_tag_chooses_the_runs(db_url: str, ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await runs_shown(pilot)
        screen = await results_open(pilot)
        tag_input = screen.query_one("#results-tag", Input)
        assert not tag_input.has_focus and "press t and type a tag" in shown_text(screen)
        await pilot.press("t", *"nope")  # t is the key that opens the box, not the tag's first letter
        assert tag_input.value == "nope"
        await wait_for(pilot, lambda: "no runs in this selection" in shown_text(screen))
        tag_input.value = ""
        await pilot.press(*TAG, "enter")
        await wait_for(pilot, lambda: bool(screen.query("#methods-0")))
        assert screen.query_one(ResultsView).has_focus
        assert len(column(screen, "methods-0")) == 6
        await pilot.press("question_mark")  # the help lists this screen's keys
        assert isinstance(app.screen, HelpScreen)
        assert ("m", "Markdown") in app.screen.sections["Results"] and ("a", "Unfinished") in app.screen.sections[
            "Results"
        ]


async def test_keys_act_on_the_table_until_t_and_type_in_the_box_until_esc(db_url: str, ids: dict[str, int]) -> None:
    app = build_app(db_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await runs_shown(pilot)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        screen = await results_open(pilot)
        tag_input = screen.query_one("#results-tag", Input)
        await pilot.press("a")  # a key: the unfinished runs join
        assert screen.include_unfinished and tag_input.value == ""
        await pilot.press("t", "a")  # in the box: a letter of the tag, and the footer says so
        assert tag_input.has_focus and tag_input.value == "a" and screen.include_unfinished
        status = str(screen.query_one("#results-status").render())
        assert status.startswith("typing a tag") and not screen.check_action("export", ("md",))
        await pilot.press("escape")  # back to the table, still on this screen
        assert app.screen is screen and screen.query_one(ResultsView).has_focus
        await pilot.press("a")
        assert not screen.include_unfinished and tag_input.value == "a"


async def test_a_run_that_finishes_appears_at_the_next_poll(db_url: str, ids: dict[str, int]) -> None:
    app: Llmd4recApp = build_app(db_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await runs_shown(pilot)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        screen = await results_open(pilot)
        assert "One-way LLM→SASRec" not in [t.plain for t in column(screen, "methods-0")]
        grid, before = screen.query_one("#methods-0"), screen.loaded
        screen.reload()  # a poll that finds nothing new keeps the widgets: no flicker
        await wait_for(pilot, lambda: screen.loaded is not before)
        assert screen.query_one("#methods-0") is grid
        assert app.context is not None
        with app.context.store.write() as session:
            run = session.get(Run, ids["oneway0"])
            assert run is not None
            run.status = "succeeded"
        await wait_for(pilot, lambda: "One-way LLM→SASRec" in [t.plain for t in column(screen, "methods-0")])


async def test_a_search_trial_with_the_tag_stays_out_unless_the_tag_is_its_studys(
    db_url: str, ids: dict[str, int]
) -> None:
    store = open_store(db_url)
    with store.write() as session:
        run = session.get(Run, ids["llmd1"])
        assert run is not None
        run.tags = [TAG, "study:s", "study:s:trial:3"]
    store.close()
    app = build_app(db_url)
    async with app.run_test(size=(120, 30)) as pilot:
        await runs_shown(pilot)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        screen = await results_open(pilot)
        assert screen.loaded is not None
        assert ids["llmd0"] in screen.loaded.run_ids and ids["llmd1"] not in screen.loaded.run_ids
        await pilot.press("t", *"study:s", "enter")
        await wait_for(pilot, lambda: screen.loaded is not None and screen.loaded.run_ids == (ids["llmd1"],))


async def test_an_unwritable_export_is_a_notification(db_url: str, ids: dict[str, int], tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "dir"
    app = build_app(db_url, export_dir=missing)
    async with app.run_test(size=(120, 30)) as pilot:
        await runs_shown(pilot)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        await results_open(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: any(f"cannot write {missing}" in n.message for n in app._notifications))


def test_results_screen_snapshot(snap_compare: Any, db_url: str, ids: dict[str, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await runs_shown(pilot)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        await results_open(pilot)

    assert snap_compare(build_app(db_url, poll_s=3600), terminal_size=(120, 40), run_before=before)
