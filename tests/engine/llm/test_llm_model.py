"""The LLM recommender's contract: what trains, what the scores depend on, padding,
checkpoint state, and that a short training learns the synthetic sequences."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.config import config_from_dict
from engine.data.dataset import SequenceDataset
from engine.evaluate import evaluate
from engine.events import Emitter
from engine.models.base import Recommender
from engine.models.llm import LLMBatch, LLMRecommender, build_llm
from engine.runtime import CancelToken
from engine.trainer import PhaseSettings, train_phase

EMBED_DIM = 16  # the conftest's item table width
ModelFactory = Callable[..., LLMRecommender]


def test_implements_the_recommender_contract(make_model: ModelFactory) -> None:
    assert isinstance(make_model(), Recommender)


def test_only_lora_w_in_and_w_out_receive_gradients(make_model: ModelFactory) -> None:
    model = make_model(prompt_mode="hybrid")
    batch = next(iter(model.train_batches(8, np.random.default_rng(0))))
    out = model.train_step(batch)
    F.cross_entropy(out.logits, out.targets).backward()
    # LoRA B starts at zero, so A's first gradient is zero but present; frozen weights get none.
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None}
    moving = {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert any("lora_B" in n for n in moving) and {"w_in.weight", "w_out.weight"} <= moving
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert with_grad == trainable
    assert trainable == {n for n in trainable if "lora_" in n or n.startswith(("w_in.", "w_out."))}
    assert any("lora_A" in n for n in trainable) and any("lora_B" in n for n in trainable)
    assert {"w_in.weight", "w_in.bias", "w_out.weight", "w_out.bias"} <= trainable
    assert {id(p) for p in model.trainable_parameters()} == {id(p) for p in model.parameters() if p.requires_grad}
    assert not model.item_table.requires_grad
    counts = model.parameter_counts()
    assert counts["trainable"] == sum(p.numel() for p in model.trainable_parameters())
    assert counts["total"] == sum(p.numel() for p in model.parameters())


def test_train_rows_carry_the_sample_keys(make_model: ModelFactory, data: SequenceDataset) -> None:
    model = make_model(samples_per_user=2)
    batches = model.train_batches(16, np.random.default_rng(1))
    assert len(batches) == -(-len(model.sample_keys) // 16)  # type: ignore[arg-type]
    seen: list[int] = []
    for batch in batches:
        out = model.train_step(batch)
        assert out.logits.shape == (len(batch.keys), data.num_items + 1)
        for key, target in zip(out.keys.tolist(), out.targets.tolist(), strict=True):
            assert data.history_and_target(key, 6)[1] == target
        seen += out.keys.tolist()
    assert sorted(seen) == sorted(data.llm_samples(2).tolist())


@pytest.mark.parametrize("mode", ["ids", "hybrid"])
def test_changing_an_injected_embedding_changes_the_scores(
    make_model: ModelFactory, item_table: torch.Tensor, mode: str
) -> None:
    model = make_model(prompt_mode=mode)
    with_item = np.array([3, 5, 7])
    without_item = np.array([3, 4, 7])
    before = model.score([with_item, without_item])
    changed = item_table.clone()
    changed[5] += 1.0
    model.set_item_embeddings(changed)
    after = model.score([with_item, without_item])
    assert not torch.allclose(before[0], after[0], atol=1e-4)
    torch.testing.assert_close(before[1], after[1])


def test_titles_mode_ignores_the_injected_embeddings(make_model: ModelFactory, item_table: torch.Tensor) -> None:
    model = make_model(prompt_mode="titles")
    history = np.array([3, 5, 7])
    before = model.score([history])
    model.set_item_embeddings(item_table + 1.0)
    torch.testing.assert_close(before, model.score([history]))


def test_wrong_embedding_shape_is_refused(make_model: ModelFactory, data: SequenceDataset) -> None:
    with pytest.raises(ValueError, match=r"expected \(41, 16\)"):
        make_model().set_item_embeddings(torch.zeros(data.num_items, EMBED_DIM))


@pytest.mark.parametrize("mode", ["ids", "titles", "hybrid"])
def test_padding_side_and_batch_composition_do_not_change_scores(make_model: ModelFactory, mode: str) -> None:
    histories = [np.array([4]), np.array([9, 2, 30, 11, 8, 1]), np.array([17, 3]), np.array([5, 6, 7, 8])]
    left = make_model(prompt_mode=mode, padding_side="left")
    right = make_model(prompt_mode=mode, padding_side="right")
    right.load_trainable_state(left.trainable_state())
    alone = torch.cat([left.score([h]) for h in histories])
    torch.testing.assert_close(left.score(histories), alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(right.score(histories), alone, atol=1e-5, rtol=1e-5)
    # The training path reads the same token: a batch padded the other way gives the same rows.
    keys = np.array([0, 1])
    batch_l = LLMBatch(keys, left.prompts.batch(histories[:2], "left"), torch.tensor([1, 1]))
    batch_r = LLMBatch(keys, left.prompts.batch(histories[:2], "right"), torch.tensor([1, 1]))
    left.eval()
    with torch.no_grad():
        torch.testing.assert_close(left(batch_l.prompts), left(batch_r.prompts), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(left(batch_l.prompts), alone[:2], atol=1e-5, rtol=1e-5)


def test_score_cuts_histories_to_max_history(make_model: ModelFactory) -> None:
    model = make_model(max_history=3)
    long = np.array([1, 2, 3, 4, 5, 6, 7])
    torch.testing.assert_close(model.score([long]), model.score([long[-3:]]))


def test_trainable_state_round_trip(make_model: ModelFactory, data: SequenceDataset) -> None:
    trained = make_model()
    with torch.no_grad():
        for p in trained.trainable_parameters():
            p.add_(0.05 * torch.randn_like(p))
    fresh = make_model()
    history = [data.sequences[0][:-2]]
    assert not torch.allclose(fresh.score(history), trained.score(history))
    fresh.load_trainable_state(trained.trainable_state())
    torch.testing.assert_close(fresh.score(history), trained.score(history))
    state = trained.trainable_state()
    state.pop("w_in.bias")
    with pytest.raises(ValueError, match=r"missing \['w_in.bias'\]"):
        fresh.load_trainable_state(state)


def test_watched_tensors_pool_lora_and_name_the_heads(make_model: ModelFactory) -> None:
    watched = make_model().watched_tensors()
    assert set(watched) == {"lora_A", "lora_B", "W_in", "W_out"}
    assert watched["W_in"].numel() == EMBED_DIM * 32


class Popularity:
    """Scores items by their training-set frequency, the baseline a learner must beat."""

    def __init__(self, data: SequenceDataset) -> None:
        counts = np.bincount(np.concatenate(data.train_sequences()), minlength=data.num_items + 1)
        self.num_items = data.num_items
        self.counts = torch.from_numpy(counts).float()

    def score(self, histories: list[np.ndarray]) -> torch.Tensor:
        return self.counts.expand(len(histories), -1).clone()


@pytest.mark.parametrize("readout", ["last", "every_item"])
def test_short_training_lowers_the_loss_and_beats_popularity(
    data: SequenceDataset, item_table: torch.Tensor, readout: str
) -> None:
    config = config_from_dict(
        {
            "data": {"llm_max_history": 4},
            "llm": {"backbone": "tiny-random", "prompt": "ids", "lora_dropout": 0.0, "readout": readout},
            "train": {"device": "cpu", "llm_epochs": 4, "llm_batch_size": 32, "llm_lr": 1e-2, "patience": 4},
        }
    )
    torch.manual_seed(0)
    model = build_llm(config, data, item_table)
    settings = PhaseSettings.from_config(config, "llm")
    result = train_phase(model, data, settings, Emitter(io.StringIO()), CancelToken(), 0, "llm")
    losses = [record.losses["ce"] for record in result.history]
    assert losses[-1] < 0.8 * losses[0]
    learned = evaluate(model, data, "test").metrics
    popular = evaluate(Popularity(data), data, "test").metrics  # type: ignore[arg-type]
    assert learned["ndcg@10"] > popular["ndcg@10"] + 0.15
    assert learned["hr@10"] > popular["hr@10"]
