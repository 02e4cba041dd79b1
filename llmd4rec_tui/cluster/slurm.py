"""Slurm: one job array of workers (sbatch), their states (squeue, then scontrol), scancel.

Nothing here waits on the scheduler: sbatch returns as soon as the array is queued, and
states are read from squeue (pending, running, completing) and, for tasks that left it,
`scontrol show job` (kept for MinJobAge); never sacct, which needs accounting. A job the
controller has forgotten reads as GONE; its worker's heartbeat still tells what it did.

The job script runs the worker in the background and forwards signals to it, so the
worker sees SIGUSR1 90 s before the time limit (--signal=B:USR1@90: B, because the
batch shell is the one Slurm signals) and scancel's SIGTERM. A worker that was preempted
by the time limit exits 75 (engine/protocol.py's EXIT_PREEMPTED); the script then
requeues its own job (--requeue allows it), so the array keeps its workers until the
queue is empty.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.protocol import EXIT_PREEMPTED
from llmd4rec_tui.cluster.placement import WorkerSpec
from llmd4rec_tui.queue.settings import ENV_CLUSTER_JOB

SIGNAL_LEAD_S = 90
COMMAND_TIMEOUT_S = 20.0
GONE = "GONE"  # neither squeue nor scontrol knows the job any more
#: One line per job: id|state|nodes|reason (squeue's %i %T %N %r).
SQUEUE_FORMAT = "%i|%T|%N|%r"
_SCONTROL_FIELD = re.compile(r"(\S+?)=(\S*)")

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


class SlurmError(RuntimeError):
    """A Slurm command failed or is missing; the message names the command and its error."""


@dataclass(frozen=True)
class SlurmState:
    job_id: str  # <array>_<task>
    state: str  # PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, TIMEOUT, ..., GONE
    node: str = ""
    reason: str = ""


def run_command(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run one Slurm command with a timeout; SlurmError when it is missing or hangs."""
    try:
        return subprocess.run(list(args), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise SlurmError(f"{args[0]} not found: run this on a Slurm login node (or put Slurm on PATH)") from exc
    except subprocess.TimeoutExpired as exc:
        raise SlurmError(f"{args[0]} did not answer within {COMMAND_TIMEOUT_S:.0f}s") from exc


def sbatch_script(spec: WorkerSpec, log_dir: Path) -> str:
    """The job-array script for spec: one ordinary worker per array task."""
    directives = [
        "--job-name=llmd4rec-worker",
        f"--array=0-{spec.workers - 1}",
        f"--signal=B:USR1@{SIGNAL_LEAD_S}",
        "--open-mode=append",
        "--requeue",
        f"--output={log_dir / 'worker-%A_%a.log'}",
        "--ntasks=1",
    ]
    if spec.cpus is not None:
        directives.append(f"--cpus-per-task={spec.cpus}")
    if spec.gpus:
        directives.append(f"--gres=gpu:{spec.gpus}")
    if spec.mem is not None:
        directives.append(f"--mem={spec.mem}")
    if spec.time is not None:
        directives.append(f"--time={spec.time}")
    if spec.partition is not None:
        directives.append(f"--partition={spec.partition}")
    if spec.same_node:
        directives.append(f"--nodelist={socket.gethostname().split('.')[0]}")
    worker = shlex.join(spec.worker_command())
    lines = [
        "#!/bin/bash",
        *(f"#SBATCH {d}" for d in directives),
        "# Written by `llmd4rec cluster submit`: each array task runs one ordinary worker on the SQL queue.",
        f'export {ENV_CLUSTER_JOB}="${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}"',
        "# The engines see the GPUs Slurm allocated to this task (train.device = auto picks CUDA).",
        'if [ -z "${CUDA_VISIBLE_DEVICES:-}" ] && [ -n "${SLURM_JOB_GPUS:-}" ]; then',
        '  export CUDA_VISIBLE_DEVICES="$SLURM_JOB_GPUS"',
        "fi",
        f'echo "$(date -u +%FT%TZ) job ${ENV_CLUSTER_JOB} (Slurm job $SLURM_JOB_ID) on $(hostname)"',
        f"{worker} &",
        "worker=$!",
        "trap 'time_limit=1; kill -USR1 \"$worker\" 2>/dev/null' USR1",
        "trap 'kill -TERM \"$worker\" 2>/dev/null' TERM",
        "while :; do",
        '  wait "$worker"',
        "  status=$?",
        '  kill -0 "$worker" 2>/dev/null || break',
        "done",
        f'if [ "$status" -eq {EXIT_PREEMPTED} ] && [ -n "${{time_limit:-}}" ]; then',
        '  echo "$(date -u +%FT%TZ) time limit near: requeueing this job"',
        f'  scontrol requeue "${ENV_CLUSTER_JOB}"  # this task only: $SLURM_JOB_ID may name the whole array',
        "fi",
        'exit "$status"',
    ]
    return "\n".join(lines) + "\n"


def submit(script: Path, sbatch_args: Sequence[str] = (), run: Runner = run_command) -> str:
    """sbatch the script; the array's job id. Command-line sbatch_args override the script's directives."""
    done = run(["sbatch", "--parsable", *sbatch_args, str(script)])
    if done.returncode != 0:
        raise SlurmError(f"sbatch failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    array_id = done.stdout.strip().split(";")[0]  # "<id>" or "<id>;<cluster>"
    if not array_id.isdigit():
        raise SlurmError(f"sbatch printed {done.stdout.strip()!r}, expected a job id")
    return array_id


def parse_squeue(text: str) -> dict[str, SlurmState]:
    """squeue --noheader --array --format=SQUEUE_FORMAT output, by job id."""
    states: dict[str, SlurmState] = {}
    for line in text.splitlines():
        fields = line.strip().split("|")
        if len(fields) != 4:
            continue
        job_id, state, node, reason = fields
        states[job_id] = SlurmState(job_id, state, node, "" if reason == "None" else reason)
    return states


def parse_scontrol(text: str) -> dict[str, SlurmState]:
    """`scontrol -o show job` output (one job per line, key=value fields), by <array>_<task> id."""
    states: dict[str, SlurmState] = {}
    for line in text.splitlines():
        fields = dict(_SCONTROL_FIELD.findall(line))
        if "JobState" not in fields:
            continue
        array, task = fields.get("ArrayJobId"), fields.get("ArrayTaskId")
        job_id = f"{array}_{task}" if array and task and task.isdigit() else fields.get("JobId", "")
        node = fields.get("NodeList", "")
        reason = fields.get("Reason", "")
        states[job_id] = SlurmState(
            job_id, fields["JobState"], "" if node == "(null)" else node, "" if reason == "None" else reason
        )
    return states


def job_states(job_ids: Sequence[str], run: Runner = run_command) -> dict[str, SlurmState]:
    """Each job's state now: squeue first, scontrol for those that left it, GONE for the rest."""
    if not job_ids:
        return {}
    arrays = sorted({job_id.split("_")[0] for job_id in job_ids})
    done = run(["squeue", "--noheader", "--array", f"--jobs={','.join(arrays)}", f"--format={SQUEUE_FORMAT}"])
    if done.returncode != 0 and "Invalid job id" not in done.stderr:
        raise SlurmError(f"squeue failed (exit {done.returncode}): {done.stderr.strip()}")
    states = parse_squeue(done.stdout) if done.returncode == 0 else {}
    for array in sorted({job_id.split("_")[0] for job_id in job_ids if job_id not in states}):
        shown = run(["scontrol", "-o", "show", "job", array])
        if shown.returncode == 0:
            states.update({k: v for k, v in parse_scontrol(shown.stdout).items() if k not in states})
    return {job_id: states.get(job_id, SlurmState(job_id, GONE)) for job_id in job_ids}


def cancel(ids: Sequence[str], run: Runner = run_command) -> None:
    """scancel these jobs or arrays (their workers put their runs back as preempted)."""
    if not ids:
        return
    done = run(["scancel", *ids])
    if done.returncode != 0:
        raise SlurmError(f"scancel failed (exit {done.returncode}): {done.stderr.strip()}")
