"""Paired significance of a gain, over users: is method A better than B for the same users?

Both rows are evaluated on the same users (leave-one-out, the same dataset), so each user
gives one pair of per-user metric values (NDCG@10 = 1/log2(rank + 1) inside the top 10,
HR@10 = 1 inside it), and seeds both rows ran add their users as further pairs (the pair
is (seed, user)). The test is a two-sided paired t-test on those differences (Student's,
through SciPy), the usual test for per-topic IR metrics (it is robust at these sample
sizes and, unlike the sign or Wilcoxon test, judges the mean that the table reports).
The 95% interval is of the relative gain mean(A) / mean(B) - 1, a percentile bootstrap
over the pairs with a fixed seed, so a table prints the same interval every time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

TEST_NAME = "paired t-test over users (pairs: seed x user), two-sided"
SIGNIFICANCE_METRICS = ("ndcg@10", "hr@10")
ALPHA = 0.05
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class PairedTest:
    p_value: float
    ci95_low: float  # relative gain, e.g. 0.031 for +3.1%
    ci95_high: float
    pairs: int

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


def per_user_value(rank: int, metric: str) -> float:
    """HR@k or NDCG@k of one user from the rank of their true item (1 = top)."""
    name, _, cut = metric.partition("@")
    k = int(cut)
    if rank > k:
        return 0.0
    if name == "hr":
        return 1.0
    if name == "ndcg":
        return 1.0 / math.log2(rank + 1)
    raise ValueError(f"no per-user form for metric {metric!r} (expected hr@k or ndcg@k)")


def paired_values(
    ours: Sequence[Mapping[str, int]], theirs: Sequence[Mapping[str, int]], metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per-user metric values of both sides, one pair per (seed, user) both sides ranked.
    ``ours[i]`` and ``theirs[i]`` are the user -> rank maps of the same seed."""
    a: list[float] = []
    b: list[float] = []
    for mine, other in zip(ours, theirs, strict=True):
        for user in sorted(mine.keys() & other.keys()):
            a.append(per_user_value(mine[user], metric))
            b.append(per_user_value(other[user], metric))
    return np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)


def paired_test(a: np.ndarray, b: np.ndarray) -> PairedTest | None:
    """The test and interval for pairs (a_i, b_i); None when there is nothing to test
    (fewer than two pairs, or a baseline whose mean is zero so no relative gain exists)."""
    n = len(a)
    if n < 2 or b.mean() <= 0:
        return None
    diff = a - b
    if not diff.any():
        p_value = 1.0  # identical on every user: no evidence of any difference
    elif np.all(diff == diff[0]):
        p_value = 0.0  # the same non-zero difference for everyone: the t statistic is infinite
    else:
        p_value = float(stats.ttest_rel(a, b).pvalue)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, n, size=(BOOTSTRAP_SAMPLES, n))
    mean_a, mean_b = a[picks].mean(axis=1), b[picks].mean(axis=1)
    valid = mean_b > 0
    gains = mean_a[valid] / mean_b[valid] - 1.0
    low, high = np.percentile(gains, [2.5, 97.5]) if len(gains) else (math.nan, math.nan)
    return PairedTest(p_value=p_value, ci95_low=float(low), ci95_high=float(high), pairs=n)
