"""`llmd4rec worker`: claim queued runs and run each in an engine subprocess."""

from __future__ import annotations

import logging
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

from engine.protocol import EXIT_PREEMPTED
from llmd4rec_tui.cli.common import EXIT_USAGE, fail, state
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.cli.worker_display import LiveTable, PlainLog
from llmd4rec_tui.queue.gpus import owned_gpus
from llmd4rec_tui.queue.observer import WorkerObserver
from llmd4rec_tui.queue.settings import (
    ENV_CLUSTER_JOB,
    ENV_ENGINE_CMD,
    ENV_RUNS_DIR,
    WorkerSettings,
    default_engine_cmd,
    default_runs_dir,
)
from llmd4rec_tui.queue.worker import QueueWorker

err_console = Console(stderr=True, markup=False)


def worker(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="Runs at once on this machine.")] = 1,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Exit once nothing is queued and nothing is running anywhere.")
    ] = False,
    drain: Annotated[
        bool, typer.Option("--drain", help="On Ctrl-C/SIGTERM let running runs finish (a second signal interrupts).")
    ] = False,
    lease_s: Annotated[float, typer.Option("--lease", help="Seconds without a heartbeat before a run is lost.")] = 60.0,
    heartbeat_s: Annotated[float, typer.Option("--heartbeat", help="Seconds between lease renewals.")] = 10.0,
    poll_s: Annotated[float, typer.Option("--poll", help="Seconds between looks at an empty queue.")] = 2.0,
    grace_s: Annotated[
        float, typer.Option("--grace", help="Seconds a stopping engine gets before SIGTERM, and again before SIGKILL.")
    ] = 30.0,
    engine_cmd: Annotated[
        str | None,
        typer.Option("--engine-cmd", envvar=ENV_ENGINE_CMD, help=r"Engine command \[default: python -m engine]."),
    ] = None,
    runs_dir: Annotated[
        Path | None,
        typer.Option("--runs-dir", envvar=ENV_RUNS_DIR, help=r"Run directories \[default: runs/ beside the db]."),
    ] = None,
    max_preemptions: Annotated[
        int, typer.Option("--max-preemptions", help="A run preempted more often than this fails (kind preempted).")
    ] = 20,
    cluster_job: Annotated[
        str | None,
        typer.Option(
            "--cluster-job",
            envvar=ENV_CLUSTER_JOB,
            help="The cluster job this worker runs in (set by `cluster submit`); SIGTERM then means preemption.",
        ),
    ] = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            "--gpus",
            help="GPU ids this worker owns, e.g. 0,1; split among its engines "
            r"\[default: CUDA_VISIBLE_DEVICES, else SLURM_STEP_GPUS / SLURM_JOB_GPUS].",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every claim and lease event.")] = False,
) -> None:
    """Run queued experiments: claim, start the engine, store its events, record the outcome.

    SIGUSR1 (or SIGTERM inside a cluster job) preempts the worker: its runs go back to the
    queue to resume elsewhere, and it exits with code 75.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    try:
        settings = WorkerSettings(
            concurrency=concurrency,
            until_empty=until_empty,
            drain=drain,
            lease_s=lease_s,
            heartbeat_s=heartbeat_s,
            poll_s=poll_s,
            grace_s=grace_s,
            engine_cmd=shlex.split(engine_cmd) if engine_cmd else default_engine_cmd(),
            runs_dir=runs_dir or default_runs_dir(state(ctx).db_url),
            max_preemptions=max_preemptions,
            cluster_job=cluster_job or None,
            gpus=owned_gpus(gpus, os.environ),
        )
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from exc
    with cli_store(ctx) as store, _display() as observer:
        runner = QueueWorker(store, settings, observer=observer)
        runner.install_signal_handlers()
        where = f"concurrency {concurrency}, runs in {settings.runs_dir}"
        err_console.print(f"worker {runner.id}: {where}", highlight=False)
        started = runner.run()
    if runner.preempted.is_set():
        err_console.print(f"worker {runner.id}: preempted after {len(started)} attempt(s)", highlight=False)
        raise typer.Exit(EXIT_PREEMPTED)
    err_console.print(f"worker {runner.id}: stopped after {len(started)} attempt(s)", highlight=False)


@contextmanager
def _display() -> Iterator[WorkerObserver]:
    """On a terminal a live table of the running runs; into a pipe or a job log, plain lines."""
    console = Console(highlight=False, markup=False)
    if not console.is_terminal:
        yield PlainLog(_write_line)
        return
    table = LiveTable(lambda line: console.print(Text(line)))
    with Live(table, console=console, refresh_per_second=2):
        yield table


def _write_line(line: str) -> None:
    sys.stdout.write(line + "\n")  # one write per line: supervisors of parallel runs share stdout
    sys.stdout.flush()
