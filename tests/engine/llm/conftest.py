"""Shared pieces of the LLM recommender tests: a small synthetic dataset, a random item
table standing in for a CRM's embeddings, and a factory for tiny-random models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from engine.backbones import load_backbone
from engine.data.dataset import SequenceDataset
from engine.data.synthetic import make_synthetic
from engine.models.llm import LLMRecommender, LoRASettings

EMBED_DIM = 16

ModelFactory = Callable[..., LLMRecommender]


@pytest.fixture(scope="module")
def data() -> SequenceDataset:
    return make_synthetic(users=120, items=40, length=12, seed=3)


@pytest.fixture
def item_table(data: SequenceDataset) -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    return torch.randn(data.num_items + 1, EMBED_DIM, generator=generator)


@pytest.fixture
def make_model(data: SequenceDataset, item_table: torch.Tensor, tmp_path: Path) -> ModelFactory:
    def build(**kwargs: object) -> LLMRecommender:
        torch.manual_seed(0)
        backbone = load_backbone("tiny-random", 0, torch.float32, tmp_path)
        options: dict[str, object] = {"max_history": 6, "lora": LoRASettings(dropout=0.0), "title_cache_dir": tmp_path}
        options.update(kwargs)
        return LLMRecommender(backbone, data, item_table, **options)  # type: ignore[arg-type]

    return build
