"""Metric functions against hand computations, including the tie rule."""

from __future__ import annotations

import math

import pytest
import torch

from engine.distill import target_rank
from engine.metrics import hit_rate, ndcg, ranks_from_scores, reciprocal_rank, summarise


def test_ties_count_against_the_target() -> None:
    scores = torch.tensor(
        [
            [0.1, 0.9, 0.5, 0.3],  # target 2 (0.5): only 0.9 above -> rank 2
            [0.4, 0.4, 0.4, 0.4],  # all tied -> rank 4 (pessimistic: every tie is ahead)
            [0.2, 0.7, 0.7, 0.9],  # target 1 (0.7) tied with item 2, below item 3 -> rank 3
            [0.0, 0.1, 0.2, 0.3],  # target 0 lowest -> rank 4
        ]
    )
    targets = torch.tensor([2, 1, 1, 0])
    assert ranks_from_scores(scores, targets).tolist() == [2, 4, 3, 4]


def test_a_constant_score_model_earns_nothing() -> None:
    """With an optimistic tie rule this model would score HR@10 = NDCG@10 = 1.0."""
    items = 50
    scores = torch.zeros(30, items + 1)
    scores[:, 0] = float("-inf")  # padding, as the evaluator masks it
    targets = torch.randint(1, items + 1, (30,))
    ranks = ranks_from_scores(scores, targets)
    assert ranks.tolist() == [items] * 30
    metrics = summarise(ranks, [10])
    assert metrics["hr@10"] == 0.0 and metrics["ndcg@10"] == 0.0


def test_rank_rule_matches_the_distillation_rank() -> None:
    torch.manual_seed(0)
    scores = torch.randint(0, 5, (20, 9)).float()  # many ties
    scores[:, 0] = float("-inf")
    targets = torch.randint(1, 9, (20,))
    assert torch.equal(ranks_from_scores(scores, targets), target_rank(scores, targets))


def test_hit_rate_ndcg_and_mrr_by_hand() -> None:
    ranks = torch.tensor([1, 2, 5, 11])
    assert hit_rate(ranks, 5).tolist() == [1.0, 1.0, 1.0, 0.0]
    assert hit_rate(ranks, 1).tolist() == [1.0, 0.0, 0.0, 0.0]
    expected_ndcg = [1.0, 1 / math.log2(3), 1 / math.log2(6), 0.0]
    assert ndcg(ranks, 10).tolist() == pytest.approx(expected_ndcg)
    assert ndcg(ranks, 4).tolist() == pytest.approx([1.0, 1 / math.log2(3), 0.0, 0.0])
    assert reciprocal_rank(ranks).tolist() == pytest.approx([1.0, 0.5, 0.2, 1 / 11])


def test_summarise_averages_over_users_and_names_every_metric() -> None:
    ranks = torch.tensor([1, 3, 30])
    metrics = summarise(ranks, [10, 5])
    assert list(metrics) == ["hr@5", "ndcg@5", "hr@10", "ndcg@10", "mrr"]
    assert metrics["hr@10"] == pytest.approx(2 / 3)
    assert metrics["ndcg@5"] == pytest.approx((1.0 + 1 / math.log2(4)) / 3)
    assert metrics["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 30) / 3)


def test_summarise_refuses_an_empty_set_of_users() -> None:
    with pytest.raises(ValueError, match="zero users"):
        summarise(torch.zeros(0, dtype=torch.long), [10])
