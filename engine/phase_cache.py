"""Reuse of round-0 phases across runs.

Round 0 trains the CRM alone and then the LLM alone, and it does not depend on the
distillation settings: SASRec alone, E4SRec, one-way, LLMD4Rec and every ablation with the
same data, models, training settings and seed train the very same round-0 models. So
the first run to finish such a phase stores the trained state, its test metrics and the
events it emitted, keyed by everything that can change the result: the config without
[distill] with ``auto`` settings resolved (the device and dtype this process really
uses, so a GPU/bf16 phase is never handed to a CPU float32 run), the dataset by its
content fingerprint instead of its path, a local backbone folder by a content stamp of
its files (``content_stamp``), a hash of the engine's own source code and the torch,
transformers and peft versions; later runs load the state and
replay the events instead of training again. The result is what resuming from a
checkpoint gives: on CPU the same numbers, bit for bit (tested).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import torch

from engine.config import LABEL_KEYS, Config, flatten
from engine.protocol import BadLine, Event, decode, encode

#: Keys that do not change round 0 (besides all of [distill]).
NOT_ROUND0 = LABEL_KEYS | {"run.max_attempts", "train.reuse_round0", "train.step_every_s"}


@cache
def engine_source_hash() -> str:
    """Hash of the engine's Python sources: a code change invalidates stored phases."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


#: Keys only the LLM reads: a round-0 CRM phase does not depend on them.
LLM_ONLY_PREFIXES = ("llm.", "data.llm_", "train.llm_")


#: Keys whose string is not what the phase depends on: replaced by resolved values.
RESOLVED_KEYS = ("train.device", "llm.dtype", "data.path", "data.item_path", "llm.backbone")
STAMP_EDGE_BYTES = 1 << 20


def content_stamp(path: Path) -> str:
    """A cheap content stamp of a file or folder: for each file its relative name, size,
    mtime and a hash of its first and last MiB. Catches a replaced or edited file without
    reading gigabytes of weights; an edit in the middle that keeps size and mtime is missed."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        info = file.stat()
        name = file.relative_to(path) if path.is_dir() else file.name
        digest.update(f"{name}|{info.st_size}|{info.st_mtime_ns}|".encode())
        with file.open("rb") as handle:
            digest.update(handle.read(STAMP_EDGE_BYTES))
            if info.st_size > STAMP_EDGE_BYTES:
                handle.seek(max(STAMP_EDGE_BYTES, info.st_size - STAMP_EDGE_BYTES))
                digest.update(handle.read(STAMP_EDGE_BYTES))
    return digest.hexdigest()[:24]


def resolved_values(config: Config, device: str, dtype: str, dataset_fingerprint: str) -> dict[str, str]:
    """What the RESOLVED_KEYS stand for in this process."""
    backbone = config.llm.backbone
    folder = Path(backbone).expanduser()
    return {
        "train.device": device,
        "llm.dtype": dtype,
        "data.path": dataset_fingerprint,  # the content of data.path and item_path, preprocessed
        "data.item_path": dataset_fingerprint,
        "llm.backbone": f"{backbone}@{content_stamp(folder)}" if folder.is_dir() else backbone,
    }


def round0_key(config: Config, model: str, resolved: dict[str, str]) -> str:
    """What a round-0 phase of ``model`` depends on; the CRM phase ignores the LLM's keys
    (each phase reseeds from the run seed, so building an LLM first changes nothing).
    ``resolved`` (from resolved_values) replaces the keys whose strings are not values."""
    flat = {
        k: resolved.get(k, v)
        for k, v in flatten(config.to_dict()).items()
        if not k.startswith("distill.")
        and k not in NOT_ROUND0
        and not (model == "crm" and k.startswith(LLM_ONLY_PREFIXES))
    }
    versions = {name: importlib.metadata.version(name) for name in ("torch", "transformers", "peft")}
    text = json.dumps(
        {"model": model, "config": flat, "engine": engine_source_hash(), "versions": versions}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class PhaseCache:
    """One folder per key: ``state.pt`` (model state + test metrics) and ``events.jsonl``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def has(self, key: str) -> bool:
        return (self.root / key / "state.pt").exists() and (self.root / key / "events.jsonl").exists()

    def load(self, key: str) -> tuple[list[Event], dict[str, torch.Tensor], dict[str, float]]:
        folder = self.root / key
        raw = torch.load(folder / "state.pt", weights_only=True, map_location="cpu")
        events: list[Event] = []
        for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines():
            event = decode(line)
            if isinstance(event, BadLine):
                raise ValueError(f"{folder / 'events.jsonl'}: {event.reason}")
            events.append(event)
        return events, raw["state"], json.loads(raw["metrics"])

    def save(self, key: str, events: list[Event], state: dict[str, torch.Tensor], metrics: dict[str, Any]) -> None:
        """Write into a temporary folder and rename it into place, so a reader never sees half."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
        state_cpu = {k: v.detach().cpu() for k, v in state.items()}
        torch.save({"state": state_cpu, "metrics": json.dumps(metrics)}, tmp / "state.pt")
        (tmp / "events.jsonl").write_text("".join(encode(e) + "\n" for e in events), encoding="utf-8")
        try:
            os.replace(tmp, self.root / key)
        except OSError:  # another run stored the same phase first: keep theirs
            for path in tmp.iterdir():
                path.unlink()
            tmp.rmdir()
