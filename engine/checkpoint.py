"""Checkpoints: everything a run needs to continue exactly where it stopped.

After every phase, ``phase-NNN.pt`` (NNN: the index of the next phase) holds the CRM's
full state, the LLM's trainable state (LoRA, W_in, W_out and the injected item table),
the RNG states, the index of the next phase, the per-round metrics so far and the
config hash.

A phase can run for hours, so every finished epoch also writes ``phase-NNN-epoch-EEE.pt``
(NNN: the phase in progress). It holds the same fields, with the student as it is after
epoch EEE, plus the phase's progress (engine.trainer.PhaseProgress): optimizer state,
the best epoch so far and its parameters, the patience and step counters, the epoch
history and the phase's own RNG states. A run resumed from it trains epoch EEE + 1 next.
Only the newest epoch file of a phase is kept, and the checkpoint written when the phase
ends deletes it.

``latest.json`` names the newest file. Files are written atomically (temp file + rename)
and loaded with ``weights_only=True``, so NumPy states and records are stored as tensors,
plain containers or JSON strings.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.trainer import EpochRecord, PhaseProgress

EPOCH_FILE = re.compile(r"phase-(\d+)-epoch-(\d+)\.pt")


class CheckpointError(RuntimeError):
    pass


@dataclass
class RunState:
    next_phase: int = 0
    crm: dict[str, torch.Tensor] | None = None
    llm: dict[str, torch.Tensor] | None = None
    rng: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)  # round -> model -> metrics
    config_hash: str = ""
    progress: PhaseProgress | None = None  # set: phase next_phase is in progress


class Checkpoints:
    """Checkpoints of one run, in ``run_dir/checkpoints/``; ``latest.json`` names the newest."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir / "checkpoints"

    def save(self, state: RunState) -> Path:
        """Write ``state`` (an epoch checkpoint when it carries progress), point latest.json
        at it and delete the epoch files it supersedes."""
        self.dir.mkdir(parents=True, exist_ok=True)
        progress = state.progress
        name = f"phase-{state.next_phase:03d}.pt"
        if progress is not None:
            name = f"phase-{state.next_phase:03d}-epoch-{progress.epochs_done:03d}.pt"
        path = self.dir / name
        payload = {
            "next_phase": state.next_phase,
            "crm": state.crm,
            "llm": state.llm,
            "rng": _rng_to_tensors(state.rng),
            "history": json.dumps(state.history),
            "config_hash": state.config_hash,
            "progress": None if progress is None else _progress_to_plain(progress, state.next_phase),
        }
        _atomic_write(path, lambda tmp: torch.save(payload, tmp))
        pointer = {"path": path.name, "next_phase": state.next_phase}
        _atomic_write(self.dir / "latest.json", lambda tmp: tmp.write_text(json.dumps(pointer)))
        self._drop_epoch_files(state.next_phase, keep=path, finished=progress is None)
        return path

    def _drop_epoch_files(self, phase: int, keep: Path, finished: bool) -> None:
        """Older epoch files of ``phase``, and once it is finished all epoch files of the
        phases before the next: they are never resumed from again (and an LLM's are MBs)."""
        for path in self.dir.glob("phase-*-epoch-*.pt"):
            match = EPOCH_FILE.fullmatch(path.name)
            if match is None or path == keep:
                continue
            index = int(match.group(1))
            if index == phase or (finished and index < phase):
                path.unlink(missing_ok=True)

    def latest(self) -> Path | None:
        pointer = self.dir / "latest.json"
        if not pointer.exists():
            return None
        name = json.loads(pointer.read_text())["path"]
        return self.dir / name

    def load(self, config_hash: str) -> RunState | None:
        path = self.latest()
        if path is None:
            return None
        try:
            raw = torch.load(path, weights_only=True, map_location="cpu")
        except Exception as exc:
            raise CheckpointError(f"{path}: cannot be loaded ({exc}); delete it to start over") from exc
        if raw["config_hash"] != config_hash:
            raise CheckpointError(
                f"{path}: written for config {raw['config_hash']}, this run is {config_hash}; "
                "resume needs the same config"
            )
        next_phase = int(raw["next_phase"])
        try:
            progress = _progress_from_plain(raw.get("progress"), next_phase)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: its phase progress is unusable ({exc}); delete it to start over") from exc
        return RunState(
            next_phase=next_phase,
            crm=raw["crm"],
            llm=raw["llm"],
            rng=_rng_from_tensors(raw["rng"]),
            history=json.loads(raw["history"]),
            config_hash=raw["config_hash"],
            progress=progress,
        )


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temp file and rename; a failed write (a full disk) leaves no temp file behind."""
    tmp = path.with_suffix(".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _rng_to_tensors(state: dict[str, Any]) -> dict[str, Any]:
    """Python's and NumPy's RNG states as plain containers weights_only loading accepts."""
    if not state:
        return {}
    version, internal, gauss = state["python"]
    np_state = state["numpy"]
    out: dict[str, Any] = {
        "python": [version, torch.tensor(internal, dtype=torch.int64), gauss],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype("int64")), *np_state[2:]],
        "torch": state["torch"],
    }
    if "cuda" in state:
        out["cuda"] = state["cuda"]
    return out


def _rng_from_tensors(raw: dict[str, Any]) -> dict[str, Any]:
    if not raw:
        return {}
    import numpy as np

    version, internal, gauss = raw["python"]
    np_state = raw["numpy"]
    out: dict[str, Any] = {
        "python": (version, tuple(int(x) for x in internal.tolist()), gauss),
        "numpy": (np_state[0], np_state[1].numpy().astype(np.uint32), *np_state[2:]),
        "torch": raw["torch"],
    }
    if "cuda" in raw:
        out["cuda"] = raw["cuda"]
    return out


def _progress_to_plain(progress: PhaseProgress, phase: int) -> dict[str, Any]:
    """A PhaseProgress as tensors, numbers and JSON strings (the generator's state holds
    128-bit integers, which only JSON keeps)."""
    out: dict[str, Any] = {
        "phase": phase,
        "epochs_done": progress.epochs_done,
        "optimizer": progress.optimizer,
        "best_state": [t.detach().cpu() for t in progress.best_state],
        "best_score": progress.best_score,
        "best_epoch": progress.best_epoch,
        "best_valid": json.dumps(progress.best_valid),
        "stale": progress.stale,
        "step": progress.step,
        "history": json.dumps([dataclasses.asdict(record) for record in progress.history]),
        "numpy_rng": json.dumps(progress.numpy_rng),
        "torch_rng": progress.torch_rng,
    }
    if progress.cuda_rng is not None:
        out["cuda_rng"] = list(progress.cuda_rng)
    if progress.best_ranks is not None:
        out["best_ranks"] = progress.best_ranks
    return out


def _progress_from_plain(raw: dict[str, Any] | None, phase: int) -> PhaseProgress | None:
    if raw is None:
        return None
    if int(raw["phase"]) != phase:
        raise ValueError(f"progress of phase {raw['phase']} in a checkpoint of phase {phase}")
    return PhaseProgress(
        epochs_done=int(raw["epochs_done"]),
        optimizer=raw["optimizer"],
        best_state=list(raw["best_state"]),
        best_score=float(raw["best_score"]),
        best_epoch=int(raw["best_epoch"]),
        best_valid=json.loads(raw["best_valid"]),
        stale=int(raw["stale"]),
        step=int(raw["step"]),
        history=[EpochRecord(**record) for record in json.loads(raw["history"])],
        numpy_rng=json.loads(raw["numpy_rng"]),
        torch_rng=raw["torch_rng"],
        cuda_rng=list(raw["cuda_rng"]) if "cuda_rng" in raw else None,
        best_ranks=raw.get("best_ranks"),
    )
