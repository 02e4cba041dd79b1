"""Which GPUs a worker owns, and each of its engines' share of them.

A worker with G GPUs running N engines at once (--concurrency N) gives each engine its
own CUDA_VISIBLE_DEVICES: with G >= N the GPUs are split evenly (G = 4, N = 2: "0,1" and
"2,3"; a remainder goes to the later shares), with G < N the engines share them
round-robin, one GPU each (G = 2, N = 3: "0", "1", "0"), so two engines then train on one
GPU and divide its memory. With no GPUs known, engines inherit the worker's environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

ENV_CUDA = "CUDA_VISIBLE_DEVICES"
#: Where a Slurm job's allocation shows when CUDA_VISIBLE_DEVICES is not set (a step's first).
SLURM_GPU_VARS = ("SLURM_STEP_GPUS", "SLURM_JOB_GPUS")

Share = tuple[str, ...]


def _ids(value: str) -> Share:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def owned_gpus(option: str | None, env: Mapping[str, str]) -> Share:
    """--gpus, else CUDA_VISIBLE_DEVICES (set but empty: none), else Slurm's allocation; device ids in order."""
    for value in (option, env.get(ENV_CUDA)):
        if value is not None:
            return _ids(value)
    for name in SLURM_GPU_VARS:
        if env.get(name, "").strip():
            return _ids(env[name])
    return ()


def gpu_shares(gpus: Sequence[str], engines: int) -> tuple[Share, ...]:
    """One share per engine slot: an even split when there are enough GPUs, else one each, round-robin."""
    count = len(gpus)
    if count == 0 or engines < 1:
        return ()
    if count >= engines:
        return tuple(tuple(gpus[i * count // engines : (i + 1) * count // engines]) for i in range(engines))
    return tuple((gpus[i % count],) for i in range(engines))
