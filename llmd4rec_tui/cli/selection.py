"""Choosing runs by id and tag, shared by `runs compare`, `runs results` and `runs plot`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from llmd4rec_tui.cli.common import EXIT_RUNTIME, EXIT_USAGE, err_console, fail
from llmd4rec_tui.store.records import CompareInput
from llmd4rec_tui.store.views import compare_inputs, run_ids_with_tag


def chosen_runs(session: Session, ids: Sequence[int] | None, tags: Sequence[str] | None) -> list[CompareInput]:
    """The runs named by id, then every run with each tag, in that order, without repeats;
    a search's trials only by id or by their study's tag (search/tags.py says why)."""
    chosen = list(dict.fromkeys(ids or []))
    left_out: list[str] = []
    for name in tags or []:
        tagged, trials = run_ids_with_tag(session, name)
        if not tagged and not trials:
            raise fail(f"--tag {name!r}: no run has this tag", EXIT_RUNTIME)
        if trials:
            listed = ", ".join(map(str, trials))
            left_out.append(f"--tag {name!r}: left out {len(trials)} search trial run(s) ({listed})")
        chosen += [i for i in tagged if i not in chosen]
    how = "choose them by id or by their study's tag (study:NAME)"
    if not chosen and left_out:
        raise fail("; ".join(left_out) + f", and no other run has it; {how}", EXIT_RUNTIME)
    if not chosen:
        raise fail("give run ids or --tag to choose the runs", EXIT_USAGE)
    for line in left_out:
        err_console.print(f"{line}; {how}")
    try:
        return list(compare_inputs(session, chosen))
    except KeyError as exc:
        raise fail(str(exc.args[0]), EXIT_RUNTIME) from exc


def reported_runs(
    session: Session, ids: Sequence[int] | None, tags: Sequence[str] | None, include_unfinished: bool
) -> list[CompareInput]:
    """The chosen runs that have succeeded (all of them with include_unfinished); none is a runtime failure."""
    runs = chosen_runs(session, ids, tags)
    if not include_unfinished:
        runs = [r for r in runs if r.status == "succeeded"]
    if not runs:
        raise fail("none of the chosen runs has succeeded yet (use --all to include the others)", EXIT_RUNTIME)
    return runs
