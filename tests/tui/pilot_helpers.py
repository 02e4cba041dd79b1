"""Waiting in Pilot tests for what a thread worker will post, without fixed sleeps."""

from __future__ import annotations

from collections.abc import Callable

from textual.css.query import NoMatches
from textual.pilot import Pilot

from llmd4rec_tui.app import Llmd4recApp, make_app
from tests.tui.dbfill import fixed_clock


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until condition holds; fail with a clear message after timeout.

    A widget the condition queries may be between removal and remount (a screen rebuilding
    its tables after a poll): that counts as "not yet", not as a failure."""
    waited = 0.0
    while not _holds(condition):
        if waited >= timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.05)
        waited += 0.05


def build_app(db_url: str, **options: object) -> Llmd4recApp:
    """The app as the CLI builds it, with a fixed clock and a fast poll."""
    settings: dict[str, object] = {"poll_s": 0.2, "clock": fixed_clock, **options}
    app = make_app(db_url, **settings)  # type: ignore[arg-type]
    app.animation_level = "none"  # Pilot waits for animations; tests need not
    return app


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except NoMatches:
        return False
