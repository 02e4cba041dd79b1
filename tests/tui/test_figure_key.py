"""The figure key (f) of the Results and Run screens: the file `runs plot` would write, and a
notification naming it; a selection without a figure says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmd4rec_tui.screens.run_screen import RunScreen
from tests.figures.figures_fill import fill_figures
from tests.tui.conftest import build_template
from tests.tui.pilot_helpers import build_app, wait_for
from tests.tui.results_fill import TAG
from tests.tui.test_results_screen import results_open, runs_shown


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    return build_template(tmp_path_factory.mktemp("figure-key") / "runs.db", fill_figures)


def _copy(template: tuple[Path, dict[str, int]], db_url: str) -> dict[str, int]:
    shutil.copyfile(template[0], db_url.removeprefix("sqlite:///"))
    return template[1]


async def test_f_on_the_results_screen_writes_the_round_curve(
    template: tuple[Path, dict[str, int]], db_url: str, tmp_path: Path
) -> None:
    ids = _copy(template, db_url)
    app = build_app(db_url, export_dir=tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await runs_shown(pilot, 15)
        await pilot.press("slash", *f"tag:{TAG}", "enter")
        await results_open(pilot)
        await pilot.press("f")
        path = tmp_path / f"rounds-{TAG}.png"
        await wait_for(pilot, lambda: any(f"wrote {path}" == n.message for n in app._notifications), timeout=60)
    assert path.read_bytes().startswith(b"\x89PNG") and len(ids) > 0


async def test_f_on_the_run_screen_writes_its_losses_or_says_there_are_none(
    template: tuple[Path, dict[str, int]], db_url: str, tmp_path: Path
) -> None:
    ids = _copy(template, db_url)
    app = build_app(db_url, export_dir=tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await runs_shown(pilot, 15)
        path = tmp_path / f"losses-run-{ids['trained0']}.png"
        assert app.context is not None
        for name, message in (("trained0", f"wrote {path}"), ("sasrec0", "no losses figure: run")):
            screen = RunScreen(app.context, ids[name])
            await app.push_screen(screen)
            await wait_for(pilot, lambda screen=screen: screen.info is not None)  # type: ignore[misc]
            await pilot.press("f")  # a notification lives a few seconds: look for it at once
            await wait_for(pilot, lambda m=message: any(n.message.startswith(m) for n in app._notifications), 60)  # type: ignore[misc]
            await pilot.press("escape")
    assert path.read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / f"losses-run-{ids['sasrec0']}.png").exists()
