"""`llmd4rec search ...`: hyper-parameter studies whose trials are ordinary queued runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from engine.config import ConfigError
from llmd4rec_tui.cli.choices import ResultsFormat
from llmd4rec_tui.cli.common import EXIT_RUNTIME, EXIT_USAGE, fail, out_console, print_wide
from llmd4rec_tui.cli.results_cmd import render_results
from llmd4rec_tui.cli.selection import reported_runs
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.results import EXPORTERS, head_to_head
from llmd4rec_tui.store.db import StoreError
from llmd4rec_tui.store.queries import final_test_ranks

search_app = typer.Typer(help="Search hyper-parameters with an Optuna study over queued runs.", no_args_is_help=True)

StudyArg = Annotated[str, typer.Argument(help="The study's name (its [study] name).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _trial_json(trial: Any) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state,
        "value": trial.value,
        "params": trial.params,
        "run_ids": list(trial.run_ids),
        "rounds": {str(k): v for k, v in sorted(trial.rounds.items())},
        "note": trial.note,
    }


def _study_json(record: Any) -> dict[str, Any]:
    best = record.best
    return {
        "name": record.name,
        "objective": {"split": "valid", "metric": record.spec.metric, "model": record.spec.model},
        "n_trials": record.spec.n_trials,
        "finished": record.finished,
        "best": None if best is None else _trial_json(best),
        "trials": [_trial_json(t) for t in record.trials],
    }


def _read(ctx: typer.Context, name: str) -> Any:
    """The study as it stands (a StudyRecord); an unknown name is an exit 2 naming the studies there are."""
    from llmd4rec_tui.search.coordinator import read_study

    with cli_store(ctx, for_reading=True) as store:
        try:
            return read_study(store, name)
        except StoreError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc


@search_app.command("start")
def start(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The study TOML.", show_default=False)],
) -> None:
    """Create the study in the database and queue its first trials (`search run` continues it)."""
    from llmd4rec_tui.search.coordinator import Coordinator, create_study
    from llmd4rec_tui.search.study_file import load_study

    try:
        spec = load_study(file)
    except ConfigError as exc:
        raise fail(f"{exc}; no study was created", EXIT_USAGE) from exc
    with cli_store(ctx) as store:
        try:
            create_study(store, spec)
            record = Coordinator(store, spec.name, out_console.print).step()
        except StoreError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
    queued = sum(t.state == "RUNNING" for t in record.trials)
    out_console.print(
        f"study {spec.name}: {queued} trial(s) queued of {spec.n_trials}; run a worker, and "
        f"`llmd4rec search run {spec.name}` to follow it to the end",
        highlight=False,
    )


@search_app.command("run")
def run(
    ctx: typer.Context,
    name: StudyArg,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between passes.", min=0.05)] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Follow the study: report rounds, prune, tell results, queue new trials; returns when the budget is spent."""
    from llmd4rec_tui.search.coordinator import Coordinator

    with cli_store(ctx) as store:
        try:
            coordinator = Coordinator(store, name, lambda line: out_console.print(line, highlight=False))
            record = coordinator.step() if once else coordinator.run(poll)
        except StoreError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    best = record.best
    closed = sum(t.state in ("COMPLETE", "PRUNED", "FAIL") for t in record.trials)
    line = f"study {name}: {closed} of {record.spec.n_trials} trials closed"
    if best is not None:
        line += f"; best trial {best.number}: {best.value:.5f} {best.params}"
    out_console.print(line, highlight=False)


@search_app.command("show")
def show(ctx: typer.Context, name: StudyArg, as_json: JsonOpt = False) -> None:
    """Trials, their parameters, per-round validation values and states, and the best trial."""
    record = _read(ctx, name)
    if as_json:
        print(json.dumps(_study_json(record), indent=2))
        return
    spec = record.spec
    title = f"study {name}: validation {spec.metric} of {spec.model}, {spec.n_trials} trials, seeds {list(spec.seeds)}"
    table = Table(title=title, title_justify="left")
    for head in ("trial", "state", "value", *[d.key for d in spec.space], "rounds", "runs", "note"):
        table.add_column(head, justify="right" if head in ("trial", "value") else "left")
    best = record.best
    for t in record.trials:
        cells = [
            f"{t.params[d.key]:.4g}" if isinstance(t.params.get(d.key), float) else str(t.params.get(d.key, ""))
            for d in spec.space
        ]
        rounds = " ".join(f"{v:.4f}" for _, v in sorted(t.rounds.items()))
        value = (
            "" if t.value is None else f"{t.value:.5f}" + (" *" if best is not None and t.number == best.number else "")
        )
        table.add_row(str(t.number), t.state.lower(), value, *cells, rounds, ",".join(map(str, t.run_ids)), t.note)
    print_wide(table)
    if best is not None:
        out_console.print(
            f"best: trial {best.number} ({best.value:.5f} on validation); "
            f"`llmd4rec search best {name} --config-out best.toml` writes it for the rerun on test",
            highlight=False,
        )


@search_app.command("best")
def best(
    ctx: typer.Context,
    name: StudyArg,
    config_out: Annotated[Path, typer.Option("--config-out", help="Write the best trial's config here.")],
) -> None:
    """Write the best trial's config (its final seeds as a sweep, a tag of its own) for the seeded rerun on test."""
    if not config_out.parent.is_dir():
        raise fail(f"--config-out {config_out}: its folder {config_out.parent} does not exist", EXIT_USAGE)
    record = _read(ctx, name)
    chosen = record.best
    if chosen is None:
        raise fail(f"study {name!r} has no completed trial yet", EXIT_RUNTIME)
    config_out.write_text(record.spec.best_config_toml(chosen.params, chosen.number), encoding="utf-8")
    out_console.print(
        f"wrote {config_out}: trial {chosen.number} ({chosen.value:.5f} on validation) {chosen.params}; "
        f"`llmd4rec queue add {config_out} --force` reruns it on test over seeds {list(record.spec.final_seeds)}",
        highlight=False,
    )
    ran = _runs_of_config(ctx, record.spec, chosen)
    if ran:
        out_console.print(
            f"this very config (same config hash) already ran on test: {ran}; rerunning a seed repeats its run, "
            "and when these are the runs you would compare against, the search kept their config",
            highlight=False,
        )


def _runs_of_config(ctx: typer.Context, spec: Any, trial: Any) -> str:
    """'run 7 (seed 0), run 8 (seed 1)': succeeded runs of the best config on the final seeds."""
    from llmd4rec_tui.store.queries import runs_by_config_hash

    hashes = {seed: spec.trial_config(trial.params, seed, trial.number).hash() for seed in spec.final_seeds}
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        done = runs_by_config_hash(session, hashes.values(), ("succeeded",))
    return ", ".join(f"run {done[digest]} (seed {seed})" for seed, digest in hashes.items() if digest in done)


@search_app.command("ls")
def ls(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The studies in this database with their trials and states."""
    from llmd4rec_tui.search.coordinator import read_study, study_names

    with cli_store(ctx, for_reading=True) as store:
        try:
            records = [read_study(store, name) for name in study_names(store)]
        except StoreError as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
    if as_json:
        print(json.dumps([_study_json(r) for r in records], indent=2))
        return
    table = Table(title="studies", title_justify="left")
    for head in ("study", "objective", "trials", "states", "best"):
        table.add_column(head)
    for r in records:
        states: dict[str, int] = {}
        for t in r.trials:
            states[t.state.lower()] = states.get(t.state.lower(), 0) + 1
        best_cell = "" if r.best is None else f"trial {r.best.number}: {r.best.value:.5f}"
        shown = ", ".join(f"{k} {v}" for k, v in sorted(states.items()))
        table.add_row(
            r.name, f"valid {r.spec.metric} ({r.spec.model})", f"{len(r.trials)}/{r.spec.n_trials}", shown, best_cell
        )
    print_wide(table)


@search_app.command("final")
def final(
    ctx: typer.Context,
    name: StudyArg,
    against: Annotated[
        list[int] | None,
        typer.Option(
            "--against", help="A run id of the config to beat (repeat it: the default config's seeds).", min=1
        ),
    ] = None,
    against_tag: Annotated[
        list[str] | None, typer.Option("--against-tag", help="Every run with this tag is on the other side.")
    ] = None,
    fmt: Annotated[
        ResultsFormat, typer.Option("--format", "-f", help="How to print the tables.")
    ] = ResultsFormat.table,
) -> None:
    """The best trial's rerun on test (tag study:NAME:best) against another config's runs,
    per method, paired over seeds and users, apart from the search."""
    from llmd4rec_tui.search.tags import best_tag

    if not against and not against_tag:
        raise fail("give --against ID or --against-tag TAG: the runs the best trial is measured against", EXIT_USAGE)
    with cli_store(ctx, for_reading=True) as store, store.session() as session:
        ours = reported_runs(session, None, [best_tag(name)], include_unfinished=False)
        theirs = [r for r in reported_runs(session, against, against_tag, False) if r.id not in {o.id for o in ours}]
        ranks = final_test_ranks(session, [r.id for r in [*ours, *theirs]])
    try:
        tables = head_to_head(ours, theirs, ranks, names=("best trial", "against"))
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    if fmt is ResultsFormat.table:
        render_results(tables)
    else:
        typer.echo(EXPORTERS[fmt.value](tables), nl=False)
