"""Ranking metrics from the 1-based rank of each user's target item.

Tie rule (``TIE_RULE``, recorded in every run's protocol): pessimistic. A target's rank is
the number of items scored at least as high as it, itself included: 1 + the items scored
strictly higher + the items tied with it. A tie never helps the target, so a model that
scores every item alike ranks every target last and earns HR@10 = NDCG@10 = 0 (with an
optimistic rule it would earn 1.0). engine.distill.target_rank uses the same rule, so the
distillation weights and the reported metrics agree on what a rank is. Scores must be
finite (masked items are -inf): engine.evaluate refuses NaN and +inf before ranking.

- HR@k: 1 when rank <= k.
- NDCG@k: 1 / log2(rank + 1) when rank <= k (one relevant item, so the ideal DCG is 1).
- MRR: 1 / rank over the full ranking (no cut-off).
Each function returns the per-user values; ``summarise`` averages them into named metrics.
"""

from __future__ import annotations

import torch

TIE_RULE = "pessimistic: rank = 1 + items scored higher + items tied with the target"


def ranks_from_scores(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Number of items scored at least as high as each target (itself included); scores
    [U, I], targets [U]. A -inf target (masked) ranks behind every unmasked item."""
    truth = scores.gather(1, targets.view(-1, 1))
    return (scores >= truth).sum(dim=1)


def hit_rate(ranks: torch.Tensor, k: int) -> torch.Tensor:
    return (ranks <= k).to(torch.float64)


def ndcg(ranks: torch.Tensor, k: int) -> torch.Tensor:
    gain = 1.0 / torch.log2(ranks.to(torch.float64) + 1.0)
    return torch.where(ranks <= k, gain, torch.zeros_like(gain))


def reciprocal_rank(ranks: torch.Tensor) -> torch.Tensor:
    return 1.0 / ranks.to(torch.float64)


def summarise(ranks: torch.Tensor, ks: list[int]) -> dict[str, float]:
    """Mean HR@k, NDCG@k for each k and MRR, keyed 'hr@10', 'ndcg@10', 'mrr'."""
    if ranks.numel() == 0:
        raise ValueError("cannot summarise metrics over zero users")
    out: dict[str, float] = {}
    for k in sorted(ks):
        out[f"hr@{k}"] = float(hit_rate(ranks, k).mean())
        out[f"ndcg@{k}"] = float(ndcg(ranks, k).mean())
    out["mrr"] = float(reciprocal_rank(ranks).mean())
    return out
