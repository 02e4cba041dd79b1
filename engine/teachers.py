"""Frozen teachers for one distillation phase.

The CRM teacher is cheap, so it scores each batch's histories live. The LLM teacher is
expensive (one transformer pass per prompt), and it does not change during a CRM phase,
so its logits for the LLM's sample keys are computed once per phase and kept: in memory,
or in a memory-mapped file in the run directory when they are large.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from engine.data.dataset import SequenceDataset
from engine.models.base import Recommender

log = logging.getLogger(__name__)

#: teacher_cache = "auto" keeps logits on disk above this size.
DISK_THRESHOLD_BYTES = 512 * 1024**2


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
        histories = [self.data.history_and_target(int(k), self.max_history)[0] for k in wanted[rows]]
        if not histories:
            return torch.zeros(0, dtype=torch.long), torch.zeros(0, self.data.num_items + 1)
        return torch.from_numpy(rows), self.model.score(histories).detach().float().cpu()

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
    ) -> CachedTeacher:
        start = time.perf_counter()
        n, width = len(keys), data.num_items + 1
        nbytes = n * width * 4
        on_disk = mode == "disk" or (mode == "auto" and nbytes > DISK_THRESHOLD_BYTES)
        logits: np.ndarray
        path: Path | None = None
        if on_disk:
            run_dir.mkdir(parents=True, exist_ok=True)
            path = run_dir / "teacher_logits.npy"
            logits = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, width))
        else:
            logits = np.empty((n, width), dtype=np.float32)
        with torch.no_grad():
            for lo in range(0, n, batch_size):
                chunk = keys[lo : lo + batch_size]
                histories = [data.history_and_target(int(k), max_history)[0] for k in chunk]
                logits[lo : lo + len(chunk)] = model.score(histories).detach().float().cpu().numpy()
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
        values = torch.from_numpy(np.ascontiguousarray(self._logits[np.sort(source_rows)]))
        # np.sort above keeps memmap reads sequential; undo it to match the row order.
        unsort = np.argsort(np.argsort(source_rows))
        return torch.from_numpy(rows), values[torch.from_numpy(unsort)]
