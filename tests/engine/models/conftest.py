"""Small CRMs on the synthetic dataset, built the way the engine builds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from crm_helpers import tiny_config

from engine.data.dataset import SequenceDataset
from engine.data.synthetic import make_synthetic
from engine.models.crm import CRMRecommender, build_crm


@pytest.fixture(scope="module")
def synthetic() -> SequenceDataset:
    return make_synthetic(users=200, items=80, length=20, seed=0)


@pytest.fixture
def make_crm(synthetic: SequenceDataset) -> Callable[..., CRMRecommender]:
    def build(model: str, **crm: Any) -> CRMRecommender:
        torch.manual_seed(0)
        return build_crm(tiny_config(model, **crm), synthetic)

    return build
