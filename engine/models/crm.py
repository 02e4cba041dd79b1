"""The CRM adaptor: SASRec or GRU4Rec behind the Recommender contract.

Training uses whole sequences: one forward pass predicts the next item at every position
of a window of a user's training items. A user's training sequence (all but the
validation and test items) is cut into non-overlapping windows of at most ``max_len``
targets, counted back from the newest item, so every training interaction is a target
exactly once (the oldest window may be shorter). Each target carries its sample key
``user * KEY_STRIDE + position`` (position in the user's full sequence), so a teacher's
logits for the same prediction can be looked up.

Scores are dot products of the last hidden state with the item embedding table; column 0
(padding) gets ``PAD_SCORE`` so it is never ranked and adds nothing to a softmax.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.config import Config
from engine.data.dataset import KEY_STRIDE, SequenceDataset
from engine.models.base import TrainOutput
from engine.models.gru4rec import GRU4RecNet
from engine.models.sasrec import SASRecNet

#: Score of the padding column: far below any real score, finite so no NaN can appear.
PAD_SCORE = -1e9


@dataclass(frozen=True)
class CRMBatch:
    """Right-padded windows: inputs, next-item targets and sample keys, 0 where padding."""

    inputs: torch.Tensor  # [B, L]
    targets: torch.Tensor  # [B, L]
    keys: torch.Tensor  # [B, L]
    negatives: torch.Tensor | None = None  # [B, L, num_negatives] for the BCE loss


@dataclass(frozen=True)
class TrainingWindows:
    """All training windows of a dataset as padded arrays, built once per model."""

    inputs: np.ndarray  # [W, L] int64
    targets: np.ndarray  # [W, L] int64
    keys: np.ndarray  # [W, L] int64

    @classmethod
    def build(cls, data: SequenceDataset, max_len: int) -> TrainingWindows:
        rows_in: list[np.ndarray] = []
        rows_out: list[np.ndarray] = []
        rows_key: list[np.ndarray] = []
        for user in range(data.num_users):
            train = data.train_sequence(user)
            # Targets are positions 1..len-1; windows end at the newest target.
            end = len(train)
            while end > 1:
                start = max(1, end - max_len)
                rows_in.append(train[start - 1 : end - 1])
                rows_out.append(train[start:end])
                rows_key.append(user * KEY_STRIDE + np.arange(start, end, dtype=np.int64))
                end = start
        count = len(rows_in)
        inputs = np.zeros((count, max_len), dtype=np.int64)
        targets = np.zeros((count, max_len), dtype=np.int64)
        keys = np.zeros((count, max_len), dtype=np.int64)
        for i, (x, y, k) in enumerate(zip(rows_in, rows_out, rows_key, strict=True)):
            inputs[i, : len(x)], targets[i, : len(y)], keys[i, : len(k)] = x, y, k
        return cls(inputs, targets, keys)

    def __len__(self) -> int:
        return len(self.inputs)


class SizedBatches(Iterator[CRMBatch]):
    """An epoch's batches that also know how many there are (for progress reporting)."""

    def __init__(self, batches: Iterator[CRMBatch], count: int) -> None:
        self._batches, self._count = batches, count

    def __next__(self) -> CRMBatch:
        return next(self._batches)

    def __len__(self) -> int:
        return self._count


class CRMRecommender(nn.Module):
    """A sequential network plus the data view, loss choice and scoring it needs."""

    def __init__(
        self,
        net: SASRecNet | GRU4RecNet,
        data: SequenceDataset,
        max_len: int,
        loss: Literal["ce", "bce"] = "ce",
        num_negatives: int = 1,
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__()
        self.net = net
        self.num_items = data.num_items
        self.max_len = max_len
        self.loss = loss
        self.num_negatives = num_negatives
        self.device = torch.device(device)
        self.windows = TrainingWindows.build(data, max_len)
        self.to(self.device)

    # --- training -------------------------------------------------------------------
    def train_batches(self, batch_size: int, rng: np.random.Generator) -> SizedBatches:
        order = rng.permutation(len(self.windows))
        count = (len(order) + batch_size - 1) // batch_size
        return SizedBatches(self._batches(order, batch_size, rng), count)

    def _batches(self, order: np.ndarray, batch_size: int, rng: np.random.Generator) -> Iterator[CRMBatch]:
        for lo in range(0, len(order), batch_size):
            rows = order[lo : lo + batch_size]
            targets = self.windows.targets[rows]
            negatives = None
            if self.loss == "bce":
                shape = (*targets.shape, self.num_negatives)
                negatives = torch.from_numpy(rng.integers(1, self.num_items + 1, size=shape)).to(self.device)
            yield CRMBatch(
                inputs=torch.from_numpy(self.windows.inputs[rows]).to(self.device),
                targets=torch.from_numpy(targets).to(self.device),
                keys=torch.from_numpy(self.windows.keys[rows]).to(self.device),
                negatives=negatives,
            )

    def train_step(self, batch: object) -> TrainOutput:
        assert isinstance(batch, CRMBatch), f"expected a CRMBatch, got {type(batch).__name__}"
        hidden = self.net(batch.inputs)
        real = batch.targets > 0
        states = hidden[real]  # [N, H], one row per non-padding position
        targets = batch.targets[real]
        logits = self._logits(states)
        aux = None
        if self.loss == "bce":
            assert batch.negatives is not None
            aux = self._bce(states, targets, batch.negatives[real])
        return TrainOutput(logits=logits, targets=targets, keys=batch.keys[real], aux_loss=aux)

    def _bce(self, states: torch.Tensor, targets: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """SASRec's original loss: the positive against sampled negatives, as binary labels."""
        table = self.net.item_embedding.weight
        positive = (states * table[targets]).sum(-1)
        negative = torch.einsum("nh,nkh->nk", states, table[negatives])
        return F.binary_cross_entropy_with_logits(
            positive, torch.ones_like(positive)
        ) + F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative))

    def _logits(self, states: torch.Tensor) -> torch.Tensor:
        items = states @ self.net.item_embedding.weight[1:].T
        pad = torch.full((len(states), 1), PAD_SCORE, dtype=items.dtype, device=items.device)
        return torch.cat([pad, items], dim=1)

    # --- inference ------------------------------------------------------------------
    def pad_histories(self, histories: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded [B, max_len] of each history's newest items and their lengths."""
        items = np.zeros((len(histories), self.max_len), dtype=np.int64)
        lengths = np.zeros(len(histories), dtype=np.int64)
        for i, history in enumerate(histories):
            kept = np.asarray(history, dtype=np.int64)[-self.max_len :]
            items[i, : len(kept)] = kept
            lengths[i] = len(kept)
        return torch.from_numpy(items).to(self.device), torch.from_numpy(lengths).to(self.device)

    @torch.no_grad()
    def score(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        """Next-item scores [B, num_items + 1]; an empty history reads the first position."""
        was_training = self.training
        self.eval()
        try:
            items, lengths = self.pad_histories(histories)
            hidden = self.net(items)
            last = (lengths - 1).clamp(min=0)
            states = hidden[torch.arange(len(last), device=self.device), last]
            return self._logits(states)
        finally:
            self.train(was_training)

    def item_embeddings(self) -> torch.Tensor:
        """The item table [num_items + 1, hidden] (row 0 is padding), detached, for the LLM."""
        return self.net.item_embedding.weight.detach().clone()

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def watched_tensors(self) -> dict[str, torch.Tensor]:
        """What the parameter histograms show: the item table, the CRM's shared knowledge."""
        return {"crm.item_embedding": self.net.item_embedding.weight[1:]}


def build_crm(config: Config, data: SequenceDataset, device: torch.device | str = "cpu") -> CRMRecommender:
    """The CRM the config asks for, built on the run's torch RNG (seed it first)."""
    c = config.crm
    max_len = config.data.max_seq_len
    net: SASRecNet | GRU4RecNet
    if c.model == "sasrec":
        net = SASRecNet(data.num_items, max_len, c.hidden_size, c.num_layers, c.num_heads, c.dropout)
    else:
        net = GRU4RecNet(data.num_items, c.hidden_size, c.num_layers, c.dropout)
    return CRMRecommender(net, data, max_len, loss=c.loss, num_negatives=c.num_negatives, device=device)
