"""The title_emb prompt: one soft token per item that also carries the frozen backbone's
title vector, read once and cached on disk by backbone, layers, weights and titles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.backbones import load_backbone
from engine.data.dataset import SequenceDataset
from engine.models.llm import LLMRecommender, LoRASettings
from engine.title_vectors import FOLDER, title_vectors

ModelFactory = Callable[..., LLMRecommender]


@pytest.fixture
def titled(data: SequenceDataset, item_table: torch.Tensor, tmp_path: Path) -> ModelFactory:
    def build(dataset: SequenceDataset = data, **kwargs: object) -> LLMRecommender:
        torch.manual_seed(0)
        backbone = load_backbone("tiny-random", int(kwargs.pop("layers", 0)), torch.float32, tmp_path)  # type: ignore[call-overload]
        options: dict[str, object] = {
            "max_history": 6,
            "lora": LoRASettings(dropout=0.0),
            "prompt_mode": "title_emb",
            "title_cache_dir": tmp_path / "cache",
        }
        options.update(kwargs)
        return LLMRecommender(backbone, dataset, item_table, **options)  # type: ignore[arg-type]

    return build


def test_one_soft_token_per_item_and_the_ids_model_at_the_start(titled: ModelFactory, make_model: ModelFactory) -> None:
    model = titled()
    ids = make_model(prompt_mode="ids")
    history = np.array([3, 5, 7, 9])
    assert model.prompts.lengths([history]).tolist() == ids.prompts.lengths([history]).tolist()
    ids.load_trainable_state({k: v for k, v in model.trainable_state().items() if not k.startswith("w_text.")})
    # W_text starts at zero: the title vectors change nothing until it learns.
    torch.testing.assert_close(model.score([history]), ids.score([history]))


def test_title_vectors_reach_the_scores_and_w_text_learns(titled: ModelFactory) -> None:
    model = titled(readout="every_item")
    batch = next(iter(model.train_batches(4, np.random.default_rng(0))))
    out = model.train_step(batch)
    F.cross_entropy(out.logits, out.targets).backward()
    assert model.w_text is not None and model.w_text.weight.grad is not None
    assert float(model.w_text.weight.grad.abs().sum()) > 0
    with torch.no_grad():
        model.w_text.weight.normal_(0, 0.1)
    history = np.array([3, 5, 7])
    before = model.score([history])
    vectors = model.title_vectors
    assert isinstance(vectors, torch.Tensor)
    vectors[5] += 1.0
    assert not torch.allclose(before, model.score([history]), atol=1e-4)
    assert "w_text.weight" in model.trainable_state() and "W_text" in model.watched_tensors()
    assert model.parameter_counts()["w_text"] == sum(p.numel() for p in model.w_text.parameters())


def test_title_vectors_are_built_once_then_reused(titled: ModelFactory, tmp_path: Path) -> None:
    first = titled()
    assert first.titles is not None and not first.titles.reused
    second = titled(readout="every_item", max_history=3)  # other LLM settings: same vectors
    assert second.titles is not None and second.titles.reused
    assert second.titles.path == first.titles.path
    torch.testing.assert_close(second.titles.vectors, first.titles.vectors)
    assert len(list((tmp_path / "cache" / FOLDER).glob("*.pt"))) == 1
    assert not list((tmp_path / "cache" / FOLDER).glob("*.tmp"))


def test_other_titles_layers_or_weights_build_new_vectors(
    titled: ModelFactory, data: SequenceDataset, tmp_path: Path
) -> None:
    base = titled().titles
    assert base is not None
    renamed = list(data.item_text)
    renamed[4] = "a different film"
    other_titles = titled(replace(data, item_text=renamed)).titles
    fewer_layers = titled(layers=1).titles
    shorter = titled(max_title_tokens=2).titles
    paths = {t.path for t in (base, other_titles, fewer_layers, shorter) if t is not None}
    assert len(paths) == 4 and not any(t.reused for t in (other_titles, fewer_layers, shorter) if t is not None)
    assert other_titles is not None
    # Only the renamed item's vector moves.
    moved = (other_titles.vectors - base.vectors).abs().sum(1) > 1e-6
    assert moved.nonzero().flatten().tolist() == [4]
    backbone = load_backbone("tiny-random", 0, torch.float32, tmp_path, seed=1)  # other weights
    prompts = titled().prompts
    reseeded = title_vectors(backbone.model, "tiny-random", 2, prompts.titles, prompts.pad_id, tmp_path / "cache")
    assert not reseeded.reused and reseeded.path != base.path


def test_the_title_vector_is_the_mean_of_the_titles_hidden_states(titled: ModelFactory, tmp_path: Path) -> None:
    model = titled()
    assert model.titles is not None
    backbone = load_backbone("tiny-random", 0, torch.float32, tmp_path)
    title = model.prompts.titles[7]
    with torch.no_grad():
        states = backbone.model(input_ids=torch.tensor([title])).last_hidden_state[0]
    torch.testing.assert_close(model.titles.vectors[7], states.mean(0), atol=1e-5, rtol=1e-5)
    assert float(model.titles.vectors[0].abs().sum()) == 0.0
