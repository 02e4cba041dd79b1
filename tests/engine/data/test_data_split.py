"""Leave-one-out split and the two sample views on hand-made sequences."""

from __future__ import annotations

import numpy as np

from engine.data.dataset import SequenceDataset, sample_key, split_key


def _dataset() -> SequenceDataset:
    sequences = [np.array([1, 2, 3, 4, 5, 6]), np.array([7, 8, 9]), np.array([2, 4, 6, 8])]
    return SequenceDataset(
        name="hand", num_items=9, sequences=sequences, item_text=[""] + [f"t{i}" for i in range(1, 10)]
    )


def test_leave_one_out_targets_and_histories() -> None:
    data = _dataset()
    assert [s.tolist() for s in data.train_sequences()] == [[1, 2, 3, 4], [7], [2, 4]]
    valid = data.eval_split("valid")
    assert valid.targets.tolist() == [5, 8, 6]
    assert [h.tolist() for h in valid.histories] == [[1, 2, 3, 4], [7], [2, 4]]
    test = data.eval_split("test")
    assert test.targets.tolist() == [6, 9, 8]
    assert [h.tolist() for h in test.histories] == [[1, 2, 3, 4, 5], [7, 8], [2, 4, 6]]
    assert test.users.tolist() == [0, 1, 2]


def test_llm_prefix_samples_with_cap_and_history() -> None:
    data = _dataset()
    keys = data.llm_samples()
    assert [split_key(int(k)) for k in keys] == [(0, 1), (0, 2), (0, 3), (2, 1)]
    capped = data.llm_samples(max_per_user=2)
    assert [split_key(int(k)) for k in capped] == [(0, 2), (0, 3), (2, 1)]
    history, target = data.history_and_target(sample_key(0, 3), max_history=2)
    assert history.tolist() == [2, 3] and target == 4
    # No sample ever targets a validation or test item.
    for key in keys:
        user, position = split_key(int(key))
        assert position < len(data.sequences[user]) - 2
