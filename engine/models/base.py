"""The one contract every recommender implements, so that the trainer, the evaluator and
the distillation never branch on the model type.

A recommender scores **every item** (ids 0..num_items, column 0 is padding and is never
recommended) for a batch of samples. Training works on *sample keys* (see
engine.data.dataset): the CRM trains all positions of whole sequences in one forward
pass, the LLM trains prefix samples; both return one logits row per trained sample with
the key that names it, so a teacher's logits for the same key can be aligned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch


@dataclass(frozen=True)
class TrainOutput:
    logits: torch.Tensor  # [N, num_items + 1]
    targets: torch.Tensor  # [N] item ids
    keys: torch.Tensor  # [N] sample keys (int64)
    aux_loss: torch.Tensor | None = None  # replaces CE when the model's loss is not softmax CE


@runtime_checkable
class Recommender(Protocol):
    num_items: int

    def train_batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[object]:
        """Yield the model's own training batches for one epoch, shuffled with rng."""
        ...

    def train_step(self, batch: object) -> TrainOutput:
        """Forward one training batch; logits carry gradients."""
        ...

    def score(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        """Scores [B, num_items + 1] of the next item after each history (no grad needed)."""
        ...

    def trainable_parameters(self) -> list[torch.nn.Parameter]: ...
