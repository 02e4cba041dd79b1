"""`llmd4rec runs ranks ID`: the rank of the true item for every user, as the engine stored
it after a final evaluation, so any metric can be recomputed and two runs compared user by
user outside the tool."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

import typer

from llmd4rec_tui.cli.choices import RanksFormat
from llmd4rec_tui.cli.common import EXIT_RUNTIME, EXIT_USAGE, fail
from llmd4rec_tui.cli.runs_cmd import runs_app
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.store.queries import get_run, run_ranks
from llmd4rec_tui.store.records import RanksRecord


def ranks_csv(record: RanksRecord) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["user", "item", "rank"])
    writer.writerows(zip(record.users, record.items, record.ranks, strict=True))
    return buffer.getvalue()


def ranks_json(record: RanksRecord) -> str:
    rows = [{"user": u, "item": i, "rank": r} for u, i, r in zip(record.users, record.items, record.ranks, strict=True)]
    head = {"run_id": record.run_id, "round": record.round, "model": record.model, "split": record.split}
    return json.dumps({**head, "ranks": rows}, indent=2) + "\n"


@runs_app.command("ranks")
def ranks(
    ctx: typer.Context,
    run_id: Annotated[int, typer.Argument(help="Run id.", show_default=False)],
    model: Annotated[str | None, typer.Option("--model", help="crm or llm (default: crm when stored).")] = None,
    split: Annotated[str, typer.Option("--split", help="test or valid.")] = "test",
    round_: Annotated[
        int | None, typer.Option("--round", min=0, help="Round of the phase (default: the model's last).")
    ] = None,
    fmt: Annotated[RanksFormat, typer.Option("--format", "-f", help="How to print the ranks.")] = RanksFormat.csv,
) -> None:
    """Per-user ranks (user,item,rank with the dataset's original ids) of one evaluation."""
    if model is not None and model not in ("crm", "llm"):
        raise fail(f"--model {model!r}: expected crm or llm", EXIT_USAGE)
    if split not in ("test", "valid"):
        raise fail(f"--split {split!r}: expected test or valid", EXIT_USAGE)
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        if get_run(session, run_id) is None:
            raise fail(f"no run with id {run_id}", EXIT_RUNTIME)
        found = run_ranks(session, [run_id], split, model, round_)
    chosen = _pick(found, model)
    if chosen is None:
        stored = "" if not found else f" (stored: {', '.join(sorted({r.model for r in found}))})"
        where = f"round {round_}" if round_ is not None else "any round"
        raise fail(
            f"run {run_id} has no stored {split} ranks of the {model or 'crm or llm'} at {where}{stored}; "
            "runs from before per-user ranks were kept have none",
            EXIT_RUNTIME,
        )
    typer.echo(ranks_csv(chosen) if fmt is RanksFormat.csv else ranks_json(chosen), nl=False)


def _pick(found: list[RanksRecord], model: str | None) -> RanksRecord | None:
    """The asked model's record; without --model the CRM's, else the LLM's."""
    by_model = {r.model: r for r in found}  # run_ranks gives one per model (its last round, or the asked one)
    if model is not None:
        return by_model.get(model)
    return by_model.get("crm") or by_model.get("llm")
