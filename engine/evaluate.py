"""Full-ranking leave-one-out evaluation of any Recommender.

For each user the model scores every item after the user's history; the padding column
and (with ``mask_history``) every item already in the history are set to -inf, except
the target itself, so a re-consumed target keeps its score and competes only with items
the user has not seen. Ranks follow engine.metrics' tie rule (pessimistic). A NaN or +inf
score anywhere raises NonFiniteValues: such a model has no ranking, and an optimistic
comparison would rank its targets first. Users are processed in batches; masking and
ranking are tensor operations on the whole batch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from engine.data.dataset import SequenceDataset
from engine.metrics import TIE_RULE, ranks_from_scores, summarise
from engine.models.base import Recommender
from engine.protocol import Ranks


@dataclass(frozen=True)
class EvalResult:
    split: str
    metrics: dict[str, float]
    users: int
    seconds: float
    protocol: dict[str, Any] = field(default_factory=dict)
    ranks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per evaluated user
    user_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # who, row by row
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # the true item ids


class NonFiniteValues(ValueError):
    """A model scored some item NaN or +inf, or a loss went non-finite: nothing to rank or keep."""


def protocol(data: SequenceDataset, split: str, mask_history: bool, ks: Sequence[int]) -> dict[str, Any]:
    """What these numbers mean; results under different protocols must not be ranked together."""
    return {
        "split": "leave-one-out",
        "eval_split": split,
        "ranking": "full",
        "mask_history": mask_history,
        "ties": TIE_RULE,
        "dataset": data.name,
        "dataset_hash": data.fingerprint,
        "ks": sorted(ks),
    }


def history_mask_index(histories: Sequence[np.ndarray], targets: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, item) pairs to mask: every history item of each row except the row's target."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    if lengths.sum() == 0:
        empty = torch.zeros(0, dtype=torch.long)
        return empty, empty
    rows = np.repeat(np.arange(len(histories)), lengths)
    items = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories])
    keep = items != targets[rows]
    return torch.from_numpy(rows[keep]), torch.from_numpy(items[keep])


@torch.no_grad()
def rank_targets(
    model: Recommender, histories: Sequence[np.ndarray], targets: np.ndarray, mask_history: bool
) -> torch.Tensor:
    """Ranks of the targets of one batch of users under the model's full-item scores."""
    scores = model.score(histories).detach().float().cpu().clone()
    scores[:, 0] = float("-inf")
    bad = torch.isnan(scores) | torch.isposinf(scores)
    if bool(bad.any()):
        raise NonFiniteValues(f"non-finite scores ({int(bad.sum())} of {bad.numel()} NaN or +inf)")
    if mask_history:
        rows, items = history_mask_index(histories, targets)
        scores[rows, items] = float("-inf")
    return ranks_from_scores(scores, torch.from_numpy(targets))


def evaluate(
    model: Recommender,
    data: SequenceDataset,
    split: str,
    ks: Sequence[int] = (5, 10, 20),
    batch_size: int = 256,
    mask_history: bool = True,
    users: np.ndarray | None = None,
) -> EvalResult:
    """HR@k, NDCG@k and MRR of the model on the valid or test split (optionally a subset of users)."""
    start = time.perf_counter()
    view = data.eval_split(split)
    chosen = view.users if users is None else np.asarray(users, dtype=np.int64)
    outside = chosen[(chosen < 0) | (chosen >= data.num_users)]
    if len(outside):
        raise ValueError(
            f"evaluate users: {outside[:5].tolist()} are not user indices of {data.name} (0..{data.num_users - 1})"
        )
    all_ranks: list[torch.Tensor] = []
    for lo in range(0, len(chosen), batch_size):
        batch = chosen[lo : lo + batch_size]
        histories = [view.histories[u] for u in batch]
        all_ranks.append(rank_targets(model, histories, view.targets[batch], mask_history))
    ranks = torch.cat(all_ranks) if all_ranks else torch.zeros(0, dtype=torch.long)
    return EvalResult(
        split=split,
        metrics=summarise(ranks, list(ks)),
        users=len(chosen),
        seconds=time.perf_counter() - start,
        protocol=protocol(data, split, mask_history, ks),
        ranks=ranks.numpy(),
        user_index=chosen,
        targets=view.targets[chosen],
    )


def ranks_event(
    data: SequenceDataset,
    users: np.ndarray,
    targets: np.ndarray,
    ranks: np.ndarray,
    round_: int,
    model: str,
    split: str,
) -> Ranks:
    """Per-user ranks of one final evaluation, with the dataset's original user and item ids."""
    return Ranks(
        round=round_,
        model=model,
        split=split,
        users=[data.user_ids[int(u)] if data.user_ids else str(int(u)) for u in users],
        items=[data.item_ids[int(i)] if data.item_ids else str(int(i)) for i in targets],
        ranks=[int(r) for r in ranks],
    )
