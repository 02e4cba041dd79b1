"""Title vectors for the ``title_emb`` prompt: each item's title read once by the frozen
backbone, its last hidden states mean-pooled over the title tokens, kept on disk.

The vectors depend only on the frozen backbone (its name, kept layers and weights) and
on the titles' token ids (tokenizer, titles and ``max_title_tokens``), so they are
computed once and cached under ``<cache>/title_vectors/<key>.pt``, where the key hashes
exactly those; anything else that changes (the LoRA adapters, the run seed of a
non-random backbone, the CRM) reuses them. Row 0 (padding) is zero.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

FOLDER = "title_vectors"
#: Titles per forward pass when building the vectors.
BATCH = 64


@dataclass(frozen=True)
class TitleVectors:
    vectors: torch.Tensor  # [I + 1, hidden] float32, row 0 zero
    path: Path
    reused: bool  # read from the cache instead of computed
    seconds: float  # time to build or to read


def weights_fingerprint(model: nn.Module) -> str:
    """A cheap digest of a frozen model's weights: each tensor's name, shape, sum and sum
    of squares (a full hash of hundreds of MB would cost more than the vectors)."""
    parts = []
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            values = tensor.detach().double()
            parts.append([name, list(tensor.shape), float(values.sum()), float((values * values).sum())])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def cache_key(backbone: str, layers: int, fingerprint: str, titles: Sequence[Sequence[int]]) -> str:
    record = {"backbone": backbone, "layers": layers, "weights": fingerprint, "titles": [list(t) for t in titles]}
    text = json.dumps(record)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def title_vectors(
    model: nn.Module,
    backbone: str,
    layers: int,
    titles: Sequence[Sequence[int]],
    pad_id: int,
    cache_dir: Path,
) -> TitleVectors:
    """The vectors of ``titles`` (token ids per item, index = item id, item 0 empty),
    from the cache when an entry with the same key exists, else computed and stored."""
    start = time.perf_counter()
    path = cache_dir / FOLDER / f"{cache_key(backbone, layers, weights_fingerprint(model), titles)}.pt"
    if path.is_file():
        vectors = torch.load(path, weights_only=True)
        return TitleVectors(vectors, path, True, time.perf_counter() - start)
    vectors = _compute(model, titles, pad_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(vectors, partial)
    partial.replace(path)  # a reader never sees a half-written file
    seconds = time.perf_counter() - start
    log.info("title vectors: %d items, %s (%d layers), %.1f s -> %s", len(titles) - 1, backbone, layers, seconds, path)
    return TitleVectors(vectors, path, False, seconds)


@torch.no_grad()
def _compute(model: nn.Module, titles: Sequence[Sequence[int]], pad_id: int) -> torch.Tensor:
    """Mean of the last hidden states over each title's tokens (right-padded batches)."""
    device = next(model.parameters()).device
    hidden = model.get_input_embeddings().weight.shape[1]  # type: ignore[operator]
    out = torch.zeros(len(titles), hidden)
    was_training = model.training
    model.eval()
    try:
        items = [i for i in range(1, len(titles)) if len(titles[i])]
        for lo in range(0, len(items), BATCH):
            chunk = items[lo : lo + BATCH]
            width = max(len(titles[i]) for i in chunk)
            ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, item in enumerate(chunk):
                ids[row, : len(titles[item])] = torch.tensor(titles[item])
                mask[row, : len(titles[item])] = 1
            states = model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False)
            last = states.last_hidden_state.float()
            weights = mask.to(device).unsqueeze(-1).float()
            out[chunk] = ((last * weights).sum(1) / weights.sum(1)).cpu()
    finally:
        model.train(was_training)
    return out


def standardise(vectors: torch.Tensor) -> torch.Tensor:
    """Each dimension to zero mean and unit variance over the items (row 0 stays zero), so
    W_text starts from inputs of the scale of the CRM's, whatever the backbone's."""
    items = vectors[1:]
    out = torch.zeros_like(vectors)
    out[1:] = (items - items.mean(0)) / (items.std(0) + 1e-6)
    return out
