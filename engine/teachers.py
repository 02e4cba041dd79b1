"""Frozen teachers for one distillation phase.

The CRM teacher is cheap, so it scores each batch's histories live. The LLM teacher is
expensive (one transformer pass per prompt), and it does not change during a CRM phase,
so its logits for the LLM's sample keys are computed once per phase and kept: in memory,
or in a memory-mapped file in the run directory when they are large, as float16 by
default (half the bytes; docs/llm.md gives what the rounding does to the KL).

A model that knows how to score its own training samples (KeyScorer: the LLM, whose
``every_item`` readout reads a whole window per pass) is asked for them by key; other
models score each key's history.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import torch

from engine.data.dataset import SequenceDataset
from engine.models.base import Recommender

log = logging.getLogger(__name__)

#: teacher_cache = "auto" keeps logits on disk above this size.
DISK_THRESHOLD_BYTES = 512 * 1024**2
#: Largest float16 magnitude; logits are clipped to it so rounding never makes an inf.
FLOAT16_MAX = float(np.finfo(np.float16).max)

TeacherDtype = Literal["float16", "float32"]


@runtime_checkable
class KeyScorer(Protocol):
    """A model that scores training samples by key, in (indices into keys, logits) chunks."""

    def score_keys(self, keys: np.ndarray, batch_size: int) -> Iterator[tuple[np.ndarray, torch.Tensor]]: ...


def score_keys(
    model: Recommender, data: SequenceDataset, keys: np.ndarray, max_history: int, batch_size: int
) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Teacher logits for sample keys, chunk by chunk: the model's own way when it has one,
    else each key's most recent ``max_history`` items through score()."""
    if isinstance(model, KeyScorer):
        yield from model.score_keys(keys, batch_size)
        return
    for lo in range(0, len(keys), batch_size):
        chunk = keys[lo : lo + batch_size]
        histories = [data.history_and_target(int(k), max_history)[0] for k in chunk]
        yield np.arange(lo, lo + len(chunk)), model.score(histories)


class LiveTeacher:
    """Scores the histories behind each key with the frozen model, batch by batch.

    ``covered`` limits the teacher to a set of sample keys (the LLM teacher covers only
    the LLM's capped samples, cached or not, so the CRM phase sees the same targets).
    """

    def __init__(
        self, model: Recommender, data: SequenceDataset, max_history: int, covered: np.ndarray | None = None
    ) -> None:
        self.model, self.data, self.max_history = model, data, max_history
        self.covered = None if covered is None else np.sort(covered)

    @torch.no_grad()
    def logits_for(self, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        wanted = keys.cpu().numpy()
        if self.covered is None:
            rows = np.arange(len(wanted))
        else:
            pos = np.clip(np.searchsorted(self.covered, wanted), 0, max(0, len(self.covered) - 1))
            rows = np.nonzero(self.covered[pos] == wanted)[0] if len(self.covered) else np.zeros(0, dtype=np.int64)
        if not len(rows):
            return torch.zeros(0, dtype=torch.long), torch.zeros(0, self.data.num_items + 1)
        logits = torch.empty(len(rows), self.data.num_items + 1)
        for index, values in score_keys(self.model, self.data, wanted[rows], self.max_history, len(rows)):
            logits[torch.from_numpy(index)] = values.detach().float().cpu()
        return torch.from_numpy(rows), logits

    def close(self) -> None:
        """Nothing kept: the model belongs to the run."""


class CachedTeacher:
    """Teacher logits for a fixed set of sample keys, computed once."""

    def __init__(
        self, keys: np.ndarray, logits: np.ndarray, nbytes: int, where: str, seconds: float, path: Path | None = None
    ) -> None:
        order = np.argsort(keys)
        self._keys = keys[order]
        self._order = order
        self._logits = logits
        self.nbytes, self.where, self.seconds = nbytes, where, seconds
        self.dtype = str(logits.dtype)  # as stored; read back as float32
        self.path = path  # the memory-mapped file, when on disk

    def close(self) -> None:
        """Drop the logits and delete their file: at full coverage it is hundreds of MB
        per phase, and nothing reads it once the phase (or a one-way run) is over."""
        self._logits = np.zeros((0, self._logits.shape[1]), dtype=np.float32)
        self._keys = self._keys[:0]
        self._order = self._order[:0]
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    @classmethod
    def build(
        cls,
        model: Recommender,
        data: SequenceDataset,
        keys: np.ndarray,
        max_history: int,
        batch_size: int,
        mode: Literal["auto", "memory", "disk"],
        run_dir: Path,
        dtype: TeacherDtype = "float16",
    ) -> CachedTeacher:
        start = time.perf_counter()
        n, width = len(keys), data.num_items + 1
        stored = np.dtype(dtype)
        nbytes = n * width * stored.itemsize
        on_disk = mode == "disk" or (mode == "auto" and nbytes > DISK_THRESHOLD_BYTES)
        logits: np.ndarray
        path: Path | None = None
        if on_disk:
            run_dir.mkdir(parents=True, exist_ok=True)
            path = run_dir / "teacher_logits.npy"
            logits = np.lib.format.open_memmap(path, mode="w+", dtype=stored, shape=(n, width))
        else:
            logits = np.empty((n, width), dtype=stored)
        with torch.no_grad():
            for index, values in score_keys(model, data, np.asarray(keys), max_history, batch_size):
                logits[index] = to_stored(values.detach().float().cpu().numpy(), stored)
        seconds = time.perf_counter() - start
        where = "disk" if on_disk else "memory"
        log.info("teacher logits: %d samples x %d items, %.1f MB in %s, %.1f s", n, width, nbytes / 1e6, where, seconds)
        return cls(np.asarray(keys), logits, nbytes, where, seconds, path)

    def logits_for(self, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        wanted = keys.cpu().numpy()
        pos = np.searchsorted(self._keys, wanted)
        pos = np.clip(pos, 0, len(self._keys) - 1)
        hit = self._keys[pos] == wanted if len(self._keys) else np.zeros(len(wanted), dtype=bool)
        rows = np.nonzero(hit)[0]
        source_rows = self._order[pos[rows]]
        values = torch.from_numpy(np.ascontiguousarray(self._logits[np.sort(source_rows)], dtype=np.float32))
        # np.sort above keeps memmap reads sequential; undo it to match the row order.
        unsort = np.argsort(np.argsort(source_rows))
        return torch.from_numpy(rows), values[torch.from_numpy(unsort)]


def to_stored(logits: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Logits in the cache's dtype; float16 is clipped to its range first (no inf)."""
    if dtype == np.float16:
        return np.clip(logits, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
    return logits.astype(dtype, copy=False)
