"""Ray: N detached actors, each running one ordinary worker; their states; stopping them.

Ray is an optional extra (`pip install 'llmd4rec[ray]'`), imported here only when a Ray
command runs, so the CLI and TUI start without it. Every actor is detached and named
(`ray-<8 hex>_<i>` in the namespace NAMESPACE), so `submit` returns as soon as Ray has
them and they outlive the driver; the name is also the worker's cluster job id, which
pairs it with its row in cluster_jobs. States come from the GCS actor table, which needs
no dashboard (ALIVE, PENDING_CREATION, RESTARTING, DEAD; GONE once Ray has forgotten
the actor). A lost node takes its actor and worker with it: the worker's runs come back
through their leases like any lost worker's, and Ray restarts the actor (a new worker,
same job id) on another node up to NODE_LOSS_RESTARTS times.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from llmd4rec_tui.cluster.placement import PlacementError, WorkerSpec
from llmd4rec_tui.queue.settings import ENV_CLUSTER_JOB

NAMESPACE = "llmd4rec"
NODE_LOSS_RESTARTS = 3
KILL_AFTER_S = 120.0  # after cancel's SIGTERM: time for the worker to stop its engines (2 x --grace by default)
CALL_TIMEOUT_S = 30.0
GONE = "GONE"  # Ray no longer knows the actor
INSTALL_HINT = "pip install 'llmd4rec[ray]' (in a checkout: pip install -c constraints.txt -e '.[ray]')"
_UNITS = {"": 2**20, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}  # Slurm's --mem: megabytes by default
_STARTING = frozenset({"DEPENDENCIES_UNREADY", "PENDING_CREATION"})


class RayError(RuntimeError):
    """Ray is missing, unreachable or refused a call; the message says which and what to do."""


@dataclass(frozen=True)
class RayState:
    job_id: str  # the actor's name
    state: str  # ALIVE, PENDING_CREATION, RESTARTING, DEAD, ..., GONE
    node: str = ""
    reason: str = ""


def new_group_id() -> str:
    return f"ray-{uuid.uuid4().hex[:8]}"


def check_ray_spec(spec: WorkerSpec) -> None:
    """PlacementError for Slurm-only options: Ray has no time limit, partitions or sbatch."""
    for option, value in (("--time", spec.time), ("--partition", spec.partition)):
        if value is not None:
            raise PlacementError(f"{option} is a Slurm option; Ray has no equivalent (leave it out with --on ray)")
    if spec.sbatch_args:
        raise PlacementError("--sbatch-arg is a Slurm option (leave it out with --on ray)")


def mem_bytes(mem: str) -> int:
    """Slurm's size syntax (16G, 16000M, 16000 = MB) as bytes, for Ray's memory resource."""
    match = re.fullmatch(r"(\d+)([KMGT]?)", mem)
    if match is None:
        raise PlacementError(f"--mem {mem!r}: expected a size such as 16G or 16000M")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RayError(f"Ray is not installed here: {INSTALL_HINT}") from exc
    return ray


def require_ray() -> None:
    """RayError saying what to install, before anything is asked of the cluster."""
    _import_ray()


@contextmanager
def connected(address: str) -> Iterator[Any]:
    """The ray module, connected to the cluster at address (in NAMESPACE) for the block."""
    ray = _import_ray()
    try:
        ray.init(address=address, namespace=NAMESPACE, logging_level="ERROR", log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayError(f"cannot connect to the Ray cluster at {address}: {exc}") from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def worker_env(job_id: str) -> dict[str, str]:
    """The submitting shell's LLMD4REC_* settings (engine command, cache...) and the worker's job id.

    Ray does not carry the driver's environment to its workers as sbatch does.
    """
    passed = {key: value for key, value in os.environ.items() if key.startswith("LLMD4REC_")}
    return {**passed, ENV_CLUSTER_JOB: job_id}


def submit(spec: WorkerSpec, address: str, group_id: str) -> list[str]:
    """Start spec.workers detached actors, each with one worker; their job ids. Returns without waiting."""
    from llmd4rec_tui.cluster.ray_actor import WorkerActor

    job_ids = [f"{group_id}_{index}" for index in range(spec.workers)]
    with connected(address) as ray:
        options: dict[str, Any] = {
            "namespace": NAMESPACE,
            "lifetime": "detached",
            "num_cpus": spec.cpus or 1,
            "num_gpus": spec.gpus,
            "max_restarts": NODE_LOSS_RESTARTS,
            "max_task_retries": 0,
        }
        if spec.mem is not None:
            options["memory"] = mem_bytes(spec.mem)
        if spec.same_node:  # the node this command runs on, which must be one of the cluster's
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            node_id = ray.get_runtime_context().get_node_id()
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
        actor = ray.remote(WorkerActor)
        log_dir = spec.runs_dir / "cluster"
        try:
            for job_id in job_ids:
                log_path = str(log_dir / f"worker-{job_id}.log")
                actor.options(name=job_id, **options).remote(spec.worker_command(), worker_env(job_id), log_path)
        except ValueError as exc:  # a name taken, a bad resource
            raise RayError(f"Ray refused the actors: {exc}") from exc
    return job_ids


def _death_reason(info: dict[str, Any]) -> str:
    """Why a dead actor died, unless it ended itself after its worker exited (ray.kill)."""
    text = str(info.get("DeathCause") or "")
    found = re.search(r'error_message: "([^"]*)"', text)
    message = found.group(1) if found else ""
    return "" if "ray.kill" in message else message[:200]


def actor_states(address: str, job_ids: Sequence[str]) -> dict[str, RayState]:
    """Each job's actor state now, from the GCS actor table; GONE for an actor Ray has forgotten."""
    if not job_ids:
        return {}
    wanted = set(job_ids)
    with connected(address) as ray:
        from ray._private import state as gcs_state  # the table `ray list actors` reads, without a dashboard

        hosts = {node["NodeID"]: node.get("NodeManagerHostname", "") for node in ray.nodes()}
        newest: dict[str, dict[str, Any]] = {}
        for info in gcs_state.actors().values():
            name = info.get("Name") or ""
            if name in wanted and info.get("StartTime", 0) >= newest.get(name, {}).get("StartTime", 0):
                newest[name] = info
    states: dict[str, RayState] = {}
    for job_id in job_ids:
        info = newest.get(job_id)
        if info is None:
            states[job_id] = RayState(job_id, GONE)
            continue
        node = hosts.get((info.get("Address") or {}).get("NodeID", ""), "")
        state = str(info.get("State", "UNKNOWN"))
        states[job_id] = RayState(job_id, state, node, _death_reason(info) if state == "DEAD" else "")
    return states


def cancel(address: str, job_ids: Sequence[str], kill_after_s: float = KILL_AFTER_S) -> None:
    """SIGTERM each job's worker through its actor (runs go back as preempted); an unplaced actor is removed."""
    if not job_ids:
        return
    states = actor_states(address, job_ids)
    with connected(address) as ray:
        calls = []
        for job_id in job_ids:
            if states[job_id].state in (GONE, "DEAD"):
                continue
            try:
                handle = ray.get_actor(job_id, namespace=NAMESPACE)
            except ValueError:  # it ended meanwhile
                continue
            if states[job_id].state in _STARTING:  # no worker yet: nothing to requeue
                ray.kill(handle, no_restart=True)
            else:
                calls.append(handle.terminate.remote(kill_after_s))
        try:
            ray.get(calls, timeout=CALL_TIMEOUT_S)
        except ray.exceptions.RayActorError:  # an actor ended while being told to: its worker is gone already
            pass
        except ray.exceptions.GetTimeoutError as exc:
            raise RayError(f"Ray did not deliver the stop within {CALL_TIMEOUT_S:.0f}s; cancel again") from exc
