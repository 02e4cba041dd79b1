"""The one in-memory form of a dataset that every model, trainer and evaluator reads.

Item ids are remapped to 1..num_items; 0 is padding. Each user's sequence is in
chronological order (ties broken by original file order). Leave-one-out: the last item
is the test target, the second-to-last the validation target, the rest is training.

A *sample key* names one prediction target: ``user * KEY_STRIDE + position`` where
``position`` indexes the target inside the user's full sequence. CRM positions and LLM
prefix samples share this key space, so a frozen teacher's logits computed for one model's
samples can be looked up by the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

KEY_STRIDE = 1 << 20


def sample_key(user: int, position: int) -> int:
    return user * KEY_STRIDE + position


def split_key(key: int) -> tuple[int, int]:
    return key // KEY_STRIDE, key % KEY_STRIDE


@dataclass(frozen=True)
class EvalSplit:
    """Histories and targets for validation or test, one row per user."""

    name: str
    users: np.ndarray  # [U] user indices
    histories: list[np.ndarray]  # full history before the target (truncate as the model needs)
    targets: np.ndarray  # [U] item ids


@dataclass(frozen=True)
class SequenceDataset:
    name: str
    num_items: int
    sequences: list[np.ndarray]  # per user, all items in time order (int64, ids 1..num_items)
    item_text: list[str]  # index = item id; item_text[0] == ""
    user_ids: list[str] = field(default_factory=list)  # original ids, index = user
    item_ids: list[str] = field(default_factory=list)  # original ids, index = item id
    fingerprint: str = ""  # hash of the input files and the preprocessing config
    preprocessing: dict[str, Any] = field(default_factory=dict)
    item_genres: list[str] = field(default_factory=list)  # index = item id; "" where unknown
    time_range: tuple[float, float] | None = None  # first and last timestamp kept

    @property
    def num_users(self) -> int:
        return len(self.sequences)

    def train_sequence(self, user: int) -> np.ndarray:
        """Items the models may train on: all but the validation and test targets."""
        return self.sequences[user][:-2]

    def train_sequences(self) -> list[np.ndarray]:
        return [s[:-2] for s in self.sequences]

    def eval_split(self, split: str, history_for_test: str = "train+valid") -> EvalSplit:
        """Validation predicts item -2 from the items before it; test predicts item -1
        from everything before it (the validation item included)."""
        if split not in ("valid", "test"):
            raise ValueError(f"split must be 'valid' or 'test', not {split!r}")
        cut = -2 if split == "valid" else -1
        histories = [s[:cut] for s in self.sequences]
        targets = np.array([s[cut] for s in self.sequences], dtype=np.int64)
        return EvalSplit(split, np.arange(self.num_users), histories, targets)

    def llm_samples(self, max_per_user: int = 0, min_history: int = 1) -> np.ndarray:
        """Sample keys of the LLM's prefix samples (history -> next item) over training
        items, the most recent ``max_per_user`` per user (0 = all)."""
        keys: list[int] = []
        for user, seq in enumerate(self.sequences):
            positions = range(min_history, len(seq) - 2)
            chosen = list(positions)[-max_per_user:] if max_per_user else list(positions)
            keys.extend(sample_key(user, p) for p in chosen)
        return np.asarray(keys, dtype=np.int64)

    def history_and_target(self, key: int, max_history: int) -> tuple[np.ndarray, int]:
        user, pos = split_key(int(key))
        seq = self.sequences[user]
        return seq[max(0, pos - max_history) : pos], int(seq[pos])

    def stats(self) -> dict[str, Any]:
        lengths = np.array([len(s) for s in self.sequences])
        interactions = int(lengths.sum())
        return {
            "name": self.name,
            "users": self.num_users,
            "items": self.num_items,
            "interactions": interactions,
            "seq_len_mean": float(lengths.mean()) if len(lengths) else 0.0,
            "seq_len_median": float(np.median(lengths)) if len(lengths) else 0.0,
            "seq_len_max": int(lengths.max()) if len(lengths) else 0,
            "density": interactions / max(1, self.num_users * self.num_items),
            "items_with_text": sum(1 for t in self.item_text[1:] if t),
            "time_min": self.time_range[0] if self.time_range else None,
            "time_max": self.time_range[1] if self.time_range else None,
            "fingerprint": self.fingerprint,
        }
