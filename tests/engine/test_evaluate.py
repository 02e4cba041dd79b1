"""Full-ranking evaluation: history masking, padding column, subsets and the protocol."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest
import torch

from engine.data.dataset import SequenceDataset
from engine.evaluate import NonFiniteValues, evaluate, history_mask_index
from engine.metrics import TIE_RULE
from engine.models.base import TrainOutput


class FixedScores:
    """Scores every history with the same vector: ranks then depend only on masking."""

    def __init__(self, scores: list[float]) -> None:
        self.num_items = len(scores) - 1
        self.vector = torch.tensor(scores)

    def train_batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[object]:
        return iter(())

    def train_step(self, batch: object) -> TrainOutput:
        raise AssertionError("not trained")

    def score(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        return self.vector.repeat(len(histories), 1)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return []


def dataset(sequences: list[list[int]], num_items: int = 6) -> SequenceDataset:
    return SequenceDataset(
        name="tiny",
        num_items=num_items,
        sequences=[np.asarray(s, dtype=np.int64) for s in sequences],
        item_text=[""] * (num_items + 1),
        fingerprint="abc123",
    )


# Item scores: padding 100 (must never count), then items 1..6 descending 6..1.
SCORES = [100.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]


def test_masking_removes_seen_items_above_the_target() -> None:
    data = dataset([[1, 2, 5, 4]])  # test target 4, history [1, 2, 5]
    masked = evaluate(FixedScores(SCORES), data, "test", ks=[1, 10], mask_history=True)
    unmasked = evaluate(FixedScores(SCORES), data, "test", ks=[1, 10], mask_history=False)
    # Unmasked: items 1, 2, 3 score higher than 4 -> rank 4; masked: only item 3 -> rank 2.
    assert unmasked.ranks.tolist() == [4]
    assert masked.ranks.tolist() == [2]
    assert masked.metrics["mrr"] == pytest.approx(0.5)
    assert masked.metrics["hr@1"] == 0.0


def test_a_target_seen_before_keeps_its_score() -> None:
    data = dataset([[3, 1, 2, 1]])  # test target 1 also appears in the history
    result = evaluate(FixedScores(SCORES), data, "test", ks=[10], mask_history=True)
    assert result.ranks.tolist() == [1]


def test_validation_uses_the_second_to_last_item_and_its_prefix() -> None:
    data = dataset([[1, 6, 3, 2]])  # valid target 3 after [1, 6]; item 2 is not history yet
    result = evaluate(FixedScores(SCORES), data, "valid", ks=[10], mask_history=True)
    assert result.ranks.tolist() == [2]  # only item 2 (unmasked) beats item 3


def test_batches_and_user_subsets_give_the_same_ranks() -> None:
    rng = np.random.default_rng(0)
    sequences = [rng.integers(1, 7, size=int(rng.integers(3, 8))).tolist() for _ in range(23)]
    data = dataset(sequences)
    whole = evaluate(FixedScores(SCORES), data, "test", batch_size=100)
    batched = evaluate(FixedScores(SCORES), data, "test", batch_size=4)
    subset = evaluate(FixedScores(SCORES), data, "test", users=np.array([3, 7, 11]))
    assert np.array_equal(whole.ranks, batched.ranks)
    assert whole.metrics == batched.metrics
    assert subset.users == 3
    assert np.array_equal(subset.ranks, whole.ranks[[3, 7, 11]])


def test_history_mask_index_skips_each_rows_target() -> None:
    rows, items = history_mask_index(
        [np.array([1, 2, 3]), np.array([], dtype=np.int64), np.array([4, 4])], np.array([2, 5, 4])
    )
    assert list(zip(rows.tolist(), items.tolist(), strict=True)) == [(0, 1), (0, 3)]


def test_protocol_records_split_ranking_masking_and_dataset() -> None:
    result = evaluate(FixedScores(SCORES), dataset([[1, 2, 3]]), "test", ks=[20, 5, 10], mask_history=False)
    assert result.protocol == {
        "split": "leave-one-out",
        "eval_split": "test",
        "ranking": "full",
        "mask_history": False,
        "ties": TIE_RULE,
        "dataset": "tiny",
        "dataset_hash": "abc123",
        "ks": [5, 10, 20],
    }


def test_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="'valid' or 'test'"):
        evaluate(FixedScores(SCORES), dataset([[1, 2, 3]]), "train")


def test_user_indices_outside_the_dataset_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[1, -1\] are not user indices of tiny \(0..0\)"):
        evaluate(FixedScores(SCORES), dataset([[1, 2, 3]]), "test", users=np.array([0, 1, -1]))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_scores_fail_instead_of_ranking_first(bad: float) -> None:
    model = FixedScores([0.0, 0.5, bad, 0.1, 0.2, 0.3, 0.4])
    with pytest.raises(NonFiniteValues, match="non-finite scores"):
        evaluate(model, dataset([[1, 2, 3, 4], [3, 4, 5, 6]]), "test", mask_history=False)


def test_result_names_each_user_and_true_item() -> None:
    model = FixedScores([0.0, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    result = evaluate(model, dataset([[1, 2, 3, 4], [3, 4, 5, 6]]), "test", mask_history=False)
    assert result.user_index.tolist() == [0, 1]
    assert result.targets.tolist() == [4, 6]
    assert result.ranks.tolist() == [4, 6]
