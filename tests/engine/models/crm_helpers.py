"""Helpers shared by the CRM tests: the tiny config, a quiet recording emitter and the popularity baseline."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import torch

from engine.config import Config, config_from_dict
from engine.data.dataset import SequenceDataset
from engine.events import Emitter


def tiny_config(model: str, **crm: Any) -> Config:
    return config_from_dict(
        {
            "run": {"seed": 3},
            "data": {"max_seq_len": 20},
            "crm": {"model": model, "hidden_size": 32, "num_layers": 1, "num_heads": 1, "dropout": 0.1, **crm},
            "train": {"crm_epochs": 6, "crm_lr": 0.005, "crm_batch_size": 64, "patience": 6},
        }
    )


def quiet_emitter() -> Emitter:
    return Emitter(io.StringIO(), step_every_s=0.0)


class Popularity:
    """Scores items by their training count: the baseline a sequential model must beat."""

    def __init__(self, data: SequenceDataset) -> None:
        self.num_items = data.num_items
        counts = np.bincount(np.concatenate(data.train_sequences()), minlength=data.num_items + 1)
        self.counts = torch.from_numpy(counts.astype(np.float32))

    def train_batches(self, batch_size: int, rng: np.random.Generator) -> Any:
        return iter(())

    def train_step(self, batch: object) -> Any:
        raise AssertionError("popularity is not trained")

    def score(self, histories: Any) -> torch.Tensor:
        return self.counts.repeat(len(histories), 1)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return []
