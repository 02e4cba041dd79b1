"""Phase-boundary checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint holds the CRM's full state, the LLM's trainable state (LoRA, W_in, W_out and
the injected item table), the RNG states, the index of the next phase, the per-round
metrics so far and the config hash. Files are written atomically (temp file + rename)
and loaded with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch


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


class Checkpoints:
    """Checkpoints of one run, in ``run_dir/checkpoints/``; ``latest.json`` names the newest."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir / "checkpoints"

    def save(self, state: RunState) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"phase-{state.next_phase:03d}.pt"
        tmp = path.with_suffix(".tmp")
        torch.save(
            {
                "next_phase": state.next_phase,
                "crm": state.crm,
                "llm": state.llm,
                "rng": _rng_to_tensors(state.rng),
                "history": json.dumps(state.history),
                "config_hash": state.config_hash,
            },
            tmp,
        )
        os.replace(tmp, path)
        pointer = self.dir / "latest.json"
        pointer_tmp = pointer.with_suffix(".tmp")
        pointer_tmp.write_text(json.dumps({"path": path.name, "next_phase": state.next_phase}))
        os.replace(pointer_tmp, pointer)
        return path

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
        return RunState(
            next_phase=int(raw["next_phase"]),
            crm=raw["crm"],
            llm=raw["llm"],
            rng=_rng_from_tensors(raw["rng"]),
            history=json.loads(raw["history"]),
            config_hash=raw["config_hash"],
        )


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
