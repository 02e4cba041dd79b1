"""SASRec and GRU4Rec through the CRM adaptor: training windows, scoring under padding,
end-to-end learning against popularity, BCE, determinism."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from crm_helpers import Popularity, quiet_emitter, tiny_config

from engine.data.dataset import SequenceDataset, split_key
from engine.evaluate import evaluate
from engine.models.base import Recommender
from engine.models.crm import PAD_SCORE, CRMRecommender, TrainingWindows
from engine.runtime import CancelToken
from engine.trainer import PhaseSettings, train_phase

MODELS = ["sasrec", "gru4rec"]


def test_windows_make_every_training_item_after_the_first_a_target_once(synthetic: SequenceDataset) -> None:
    windows = TrainingWindows.build(synthetic, max_len=7)
    real = windows.targets > 0
    keys = windows.keys[real]
    assert len(np.unique(keys)) == len(keys)
    assert len(keys) == sum(len(s) - 1 for s in synthetic.train_sequences())
    for key, target in zip(keys[:500], windows.targets[real][:500], strict=True):
        user, position = split_key(int(key))
        assert 1 <= position < len(synthetic.train_sequence(user))
        assert synthetic.sequences[user][position] == target
    # Each input is the item just before its target (a one-step shift inside a window).
    for row in range(20):
        n = int(real[row].sum())
        user, first = split_key(int(windows.keys[row, 0]))
        assert np.array_equal(windows.inputs[row, :n], synthetic.sequences[user][first - 1 : first - 1 + n])


@pytest.mark.parametrize("model", MODELS)
def test_train_output_has_one_row_per_real_position(model: str, make_crm: Callable[..., CRMRecommender]) -> None:
    crm = make_crm(model)
    assert isinstance(crm, Recommender)
    batch = next(iter(crm.train_batches(8, np.random.default_rng(0))))
    out = crm.train_step(batch)
    real = int((batch.targets > 0).sum())
    assert out.logits.shape == (real, crm.num_items + 1)
    assert out.targets.shape == out.keys.shape == (real,)
    assert bool((out.logits[:, 0] == PAD_SCORE).all())
    assert out.logits.requires_grad


@pytest.mark.parametrize("model", MODELS)
def test_scores_do_not_depend_on_the_other_histories_in_the_batch(
    model: str, make_crm: Callable[..., CRMRecommender]
) -> None:
    crm = make_crm(model)
    short, long_ = np.array([5, 6, 7]), np.arange(1, 40)
    alone = crm.score([short])
    together = crm.score([long_, short, np.array([9])])
    torch.testing.assert_close(together[1], alone[0])
    # Only the newest max_len items count.
    torch.testing.assert_close(crm.score([np.arange(1, 60)]), crm.score([np.arange(40, 60)]))


@pytest.mark.parametrize("model", MODELS)
def test_item_embeddings_are_the_scoring_table(model: str, make_crm: Callable[..., CRMRecommender]) -> None:
    crm = make_crm(model)
    table = crm.item_embeddings()
    assert table.shape == (crm.num_items + 1, 32)
    assert not table.requires_grad
    table.add_(1.0)  # a copy: changing it must not change the model
    assert not torch.equal(table, crm.item_embeddings())


def train(crm: CRMRecommender, data: SequenceDataset, model: str) -> dict[str, float]:
    settings = PhaseSettings.from_config(tiny_config(model), "crm")
    train_phase(crm, data, settings, quiet_emitter(), CancelToken(), 0, "crm")
    return evaluate(crm, data, "test", ks=[10]).metrics


@pytest.mark.parametrize("model", MODELS)
def test_a_short_training_beats_popularity(
    model: str, make_crm: Callable[..., CRMRecommender], synthetic: SequenceDataset
) -> None:
    popularity = evaluate(Popularity(synthetic), synthetic, "test", ks=[10]).metrics
    learned = train(make_crm(model), synthetic, model)
    assert learned["ndcg@10"] > 2 * popularity["ndcg@10"]
    assert learned["hr@10"] > popularity["hr@10"]


@pytest.mark.parametrize("model", MODELS)
def test_same_seed_and_config_give_identical_metrics(
    model: str, make_crm: Callable[..., CRMRecommender], synthetic: SequenceDataset
) -> None:
    first = train(make_crm(model), synthetic, model)
    second = train(make_crm(model), synthetic, model)
    assert first == second


def test_bce_loss_with_sampled_negatives_learns(
    make_crm: Callable[..., CRMRecommender], synthetic: SequenceDataset
) -> None:
    crm = make_crm("sasrec", loss="bce", num_negatives=4)
    batch = next(iter(crm.train_batches(8, np.random.default_rng(0))))
    assert batch.negatives is not None and batch.negatives.shape[-1] == 4
    out = crm.train_step(batch)
    assert out.aux_loss is not None and out.aux_loss.requires_grad
    popularity = evaluate(Popularity(synthetic), synthetic, "test", ks=[10]).metrics
    assert train(crm, synthetic, "sasrec")["hr@10"] > popularity["hr@10"]
