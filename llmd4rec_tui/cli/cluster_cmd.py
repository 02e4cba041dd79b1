"""`llmd4rec cluster submit|status|cancel`: place ordinary workers on Slurm or Ray, watch and stop them.

Submitting returns as soon as the scheduler has the jobs; the workers then claim runs
from the SQL queue like any other worker. Nothing here waits for a job to start or end.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from llmd4rec_tui.cli.common import EXIT_RUNTIME, EXIT_USAGE, fail, out_console, print_wide, state
from llmd4rec_tui.cli.stores import cli_store
from llmd4rec_tui.cluster import ray_workers, slurm
from llmd4rec_tui.cluster.jobs import ClusterJobRecord, list_jobs, mark_cancelled, record_jobs
from llmd4rec_tui.cluster.placement import PlacementError, WorkerSpec, absolute_db_url, check_spec
from llmd4rec_tui.queue.settings import default_runs_dir
from llmd4rec_tui.store.records import now_utc, to_jsonable

cluster_app = typer.Typer(help="Place workers on Slurm or Ray, watch them, cancel them.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
AddressOpt = Annotated[
    str | None,
    typer.Option("--address", help=r"Ray cluster address \[default: RAY_ADDRESS, else auto; later: as submitted]."),
]
JobState = slurm.SlurmState | ray_workers.RayState


class Backend(StrEnum):
    slurm = "slurm"
    ray = "ray"


@cluster_app.command("submit")
def submit(
    ctx: typer.Context,
    on: Annotated[Backend, typer.Option("--on", help="The scheduler that places the workers.")],
    workers: Annotated[int, typer.Option("--workers", "-n", help="Workers (one job-array task or actor each).")] = 1,
    address: AddressOpt = None,
    gpus: Annotated[int, typer.Option("--gpus-per-worker", help="GPUs per worker (--gres=gpu:G, Ray's num_gpus).")] = 0,
    cpus: Annotated[int | None, typer.Option("--cpus-per-worker", help="CPUs per worker.")] = None,
    mem: Annotated[str | None, typer.Option("--mem", help="Memory per worker, e.g. 32G.")] = None,
    time_limit: Annotated[str | None, typer.Option("--time", help="Time limit per job, HH:MM:SS.")] = None,
    partition: Annotated[str | None, typer.Option("--partition", help="Slurm partition.")] = None,
    sbatch_args: Annotated[
        list[str] | None, typer.Option("--sbatch-arg", help="Extra sbatch option, e.g. --sbatch-arg=--account=abc.")
    ] = None,
    worker_args: Annotated[
        list[str] | None, typer.Option("--worker-arg", help="Extra worker option, e.g. --worker-arg=--concurrency=2.")
    ] = None,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Each worker exits once nothing is queued or running.")
    ] = False,
    runs_dir: Annotated[
        Path | None, typer.Option("--runs-dir", help=r"Run directories, on a shared file system \[default: as worker].")
    ] = None,
    same_node: Annotated[
        bool, typer.Option("--same-node", help="Pin every worker to this node (SQLite, or a local runs folder).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the job script; submit nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Submit N workers (a Slurm job array, or detached Ray actors) and return at once; `cluster status` shows them."""
    db_url = absolute_db_url(state(ctx).db_url)
    spec = WorkerSpec(
        db_url=db_url,
        runs_dir=(runs_dir or default_runs_dir(db_url)).absolute(),
        workers=workers,
        gpus=gpus,
        cpus=cpus,
        mem=mem,
        time=time_limit,
        partition=partition,
        sbatch_args=tuple(sbatch_args or ()),
        worker_args=tuple(worker_args or ()),
        until_empty=until_empty,
        same_node=same_node,
    )
    try:
        check_spec(spec)
        if on is Backend.ray:
            ray_workers.check_ray_spec(spec)
            ray_workers.require_ray()
    except PlacementError as exc:
        raise fail(f"{exc}; nothing was submitted", EXIT_USAGE) from exc
    except ray_workers.RayError as exc:
        raise fail(f"{exc}; nothing was submitted", EXIT_USAGE) from exc
    if on is Backend.ray:
        _submit_ray(ctx, spec, address or os.environ.get("RAY_ADDRESS") or "auto", dry_run, as_json)
        return
    log_dir = spec.runs_dir / "cluster"
    script = slurm.sbatch_script(spec, log_dir)
    if dry_run:
        sys.stdout.write(script)
        return
    with cli_store(ctx) as store:  # created and migrated here, before any worker opens it
        path = _write_script(log_dir, script)
        try:
            array_id = slurm.submit(path, spec.sbatch_args)
        except slurm.SlurmError as exc:
            raise fail(f"{exc}; nothing was submitted", EXIT_RUNTIME) from exc
        job_ids = [f"{array_id}_{task}" for task in range(spec.workers)]
        record_jobs(store, on.value, array_id, job_ids, spec.options())
    if as_json:
        print(json.dumps({"backend": on.value, "array_id": array_id, "jobs": job_ids, "script": str(path)}))
        return
    out_console.print(f"submitted Slurm array {array_id}: {workers} worker(s), jobs {job_ids[0]}..{job_ids[-1]}")
    out_console.print(f"job script {path}; logs in {log_dir}; watch with: llmd4rec cluster status")


def _submit_ray(ctx: typer.Context, spec: WorkerSpec, address: str, dry_run: bool, as_json: bool) -> None:
    if dry_run:
        sys.stdout.write(f"# {spec.workers} detached Ray actor(s) at {address}, each running:\n")
        sys.stdout.write(shlex.join(spec.worker_command()) + "\n")
        return
    with cli_store(ctx) as store:  # created and migrated here, before any worker opens it
        group_id = ray_workers.new_group_id()
        try:
            job_ids = ray_workers.submit(spec, address, group_id)
        except ray_workers.RayError as exc:
            raise fail(f"{exc}; nothing was submitted", EXIT_RUNTIME) from exc
        record_jobs(store, Backend.ray.value, group_id, job_ids, {**spec.options(), "address": address})
    if as_json:
        print(json.dumps({"backend": Backend.ray.value, "array_id": group_id, "jobs": job_ids, "address": address}))
        return
    log_dir = spec.runs_dir / "cluster"
    out_console.print(f"started {spec.workers} Ray worker(s) at {address}: {job_ids[0]}..{job_ids[-1]}")
    out_console.print(f"logs in {log_dir}; watch with: llmd4rec cluster status")


def _write_script(log_dir: Path, script: str) -> Path:
    """The script beside the logs, readable by its owner only (it holds the database URL)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"workers-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.sbatch"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(script)
    return path


@cluster_app.command("status")
def status(ctx: typer.Context, address: AddressOpt = None, as_json: JsonOpt = False) -> None:
    """Each job's scheduler state (Slurm's squeue/scontrol, Ray's actor table) beside its worker's heartbeat."""
    with cli_store(ctx, for_reading=True) as store:
        jobs = list_jobs(store)
    states, errors = _scheduler_states(jobs, address)
    error = "; ".join(errors)
    now = now_utc()
    rows = [_status_row(job, states.get(job.job_id), now) for job in jobs]
    if as_json:
        print(json.dumps({"jobs": rows, "error": error or None}, indent=2))
        return
    if error:
        out_console.print(f"scheduler state unavailable: {error}")
    if not rows:
        out_console.print("no cluster jobs recorded; submit some with: llmd4rec cluster submit --on slurm")
        return
    table = Table("job", "state", "node", "worker", "heartbeat", "runs", "submitted")
    for row in rows:
        beat = row["heartbeat_age_s"]
        heartbeat = "-" if beat is None else f"{beat:.0f}s ago" + (" (stopped)" if row["worker_stopped"] else "")
        state_text = row["state"] + (f" ({row['reason']})" if row["reason"] else "")
        submitted = datetime.fromisoformat(row["submitted_at"]).strftime("%m-%d %H:%M")
        table.add_row(
            row["job_id"], state_text, row["node"], row["worker"] or "-", heartbeat, str(row["running"]), submitted
        )
    print_wide(table)


def _ray_addresses(jobs: list[ClusterJobRecord], address: str | None) -> dict[str, list[str]]:
    """The Ray jobs' ids by the cluster address each was submitted to (or the one given)."""
    by_address: dict[str, list[str]] = {}
    for job in jobs:
        if job.backend == Backend.ray.value:
            by_address.setdefault(address or str(job.options.get("address") or "auto"), []).append(job.job_id)
    return by_address


def _scheduler_states(jobs: list[ClusterJobRecord], address: str | None) -> tuple[dict[str, JobState], list[str]]:
    """What each scheduler says of its jobs, and why a scheduler could not say (the queue's own facts still show)."""
    states: dict[str, JobState] = {}
    errors: list[str] = []
    try:
        states.update(slurm.job_states([job.job_id for job in jobs if job.backend == Backend.slurm.value]))
    except slurm.SlurmError as exc:
        errors.append(str(exc))
    for ray_address, job_ids in _ray_addresses(jobs, address).items():
        try:
            states.update(ray_workers.actor_states(ray_address, job_ids))
        except ray_workers.RayError as exc:
            errors.append(str(exc))
    return states, errors


def _status_row(job: ClusterJobRecord, found: JobState | None, now: datetime) -> dict[str, Any]:
    worker = job.worker
    return {
        "backend": job.backend,
        "job_id": job.job_id,
        "array_id": job.array_id,
        "state": found.state if found else "unknown",
        "node": found.node if found else "",
        "reason": found.reason if found else "",
        "submitted_at": to_jsonable(job.submitted_at),
        "cancelled_at": to_jsonable(job.cancelled_at),
        "worker": worker.id if worker else None,
        "heartbeat_age_s": round(worker.heartbeat_age_s(now), 1) if worker else None,
        "worker_stopped": bool(worker and worker.stopped_at),
        "running": worker.running if worker else 0,
    }


@cluster_app.command("cancel")
def cancel(
    ctx: typer.Context,
    job_ids: Annotated[
        list[str] | None, typer.Argument(help="Job ids (<array>_<task>) or array ids [default: every recorded job].")
    ] = None,
    address: AddressOpt = None,
) -> None:
    """Stop the workers (scancel; SIGTERM through Ray): each puts its runs back in the queue (preempted) and exits."""
    with cli_store(ctx) as store:
        jobs = list_jobs(store, include_cancelled=False)
        wanted = set(job_ids or ())
        chosen = [job for job in jobs if not wanted or job.job_id in wanted or job.array_id in wanted]
        unknown = wanted - {job.job_id for job in chosen} - {job.array_id for job in chosen}
        if unknown:
            raise fail(
                f"not a recorded, uncancelled cluster job: {', '.join(sorted(unknown))}; see cluster status",
                EXIT_RUNTIME,
            )
        if not chosen:
            out_console.print("no cluster jobs to cancel")
            return
        named = {
            on: _whole_groups([j for j in jobs if j.backend == on], [j for j in chosen if j.backend == on])
            for on in (Backend.slurm.value, Backend.ray.value)
        }
        ids = named[Backend.slurm.value] + named[Backend.ray.value]
        try:
            slurm.cancel(named[Backend.slurm.value])  # whole arrays where all their tasks go
            for ray_address, ray_ids in _ray_addresses(chosen, address).items():
                ray_workers.cancel(ray_address, ray_ids)
        except (slurm.SlurmError, ray_workers.RayError) as exc:
            raise fail(str(exc), EXIT_RUNTIME) from exc
        mark_cancelled(store, [job.job_id for job in chosen])
    out_console.print(f"cancelled {len(chosen)} job(s): {' '.join(ids)}")


def _whole_groups(jobs: list[ClusterJobRecord], chosen: list[ClusterJobRecord]) -> list[str]:
    """The chosen jobs, named by their array (group) id where every job of it is chosen."""
    ids = sorted(a for a in {job.array_id for job in jobs} if all(j in chosen for j in jobs if j.array_id == a))
    return ids + sorted(job.job_id for job in chosen if job.array_id not in ids)
