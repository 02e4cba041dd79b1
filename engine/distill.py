"""The two pieces of LLMD4Rec's distillation that are pure tensor maths: the rank-based
sample weights and the temperature-scaled KL over the full item set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from engine.metrics import ranks_from_scores


def target_rank(logits: torch.Tensor, targets: torch.Tensor, exclude_padding: bool = True) -> torch.Tensor:
    """1-based rank of each target under logits [N, I+1], by engine.metrics' pessimistic tie
    rule (ties count against the target). Column 0 (padding) never counts."""
    scores = logits.detach()
    if exclude_padding:
        scores = scores.clone()
        scores[:, 0] = float("-inf")
    return ranks_from_scores(scores, targets)


def sample_weights(student_rank: torch.Tensor, teacher_rank: torch.Tensor) -> torch.Tensor:
    """w = 1 + (r_s - r_t) / r_t when the teacher ranks the truth better (r_s > r_t),
    else 1 - (r_t - r_s) / r_s; clipped to [0, 2]. w1 uses (s=LLM, t=CRM), w2 (s=CRM, t=LLM)."""
    rs = student_rank.to(torch.float64)
    rt = teacher_rank.to(torch.float64)
    w = torch.where(rs > rt, 1.0 + (rs - rt) / rt, 1.0 - (rt - rs) / rs)
    return w.clamp(0.0, 2.0).to(torch.float32)


def kl_teacher_student(
    teacher_logits: torch.Tensor,
    student_logits: torch.Tensor,
    temperature: float,
    t_squared: bool = True,
) -> torch.Tensor:
    """Per-sample KL(softmax(z_t/T) || softmax(z_s/T)) over all items, padding excluded.
    The teacher side carries no gradient. Multiplied by T^2 when t_squared."""
    t = teacher_logits.detach()[:, 1:].float() / temperature
    s = student_logits[:, 1:].float() / temperature
    log_p_t = F.log_softmax(t, dim=1)
    log_p_s = F.log_softmax(s, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
    return kl * (temperature**2) if t_squared else kl


def histogram(values: torch.Tensor, edges: list[float]) -> list[int]:
    """Counts of values in fixed bins; the last bin includes its right edge."""
    v = values.detach().float().flatten().cpu()
    e = torch.tensor(edges, dtype=torch.float32)
    idx = torch.bucketize(v, e, right=True) - 1
    idx = idx.clamp(0, len(edges) - 2)
    inside = (v >= e[0]) & (v <= e[-1])
    return torch.bincount(idx[inside], minlength=len(edges) - 1).tolist()


WEIGHT_EDGES = [i * 0.1 for i in range(21)]  # fixed bins over [0, 2]


class Teacher(Protocol):
    """A frozen model's logits for training samples, looked up by sample key.

    Returns (rows, logits): ``rows`` indexes the keys the teacher has logits for (a
    cached LLM teacher covers only the LLM's capped samples; a live CRM teacher covers
    all), ``logits`` is [len(rows), num_items + 1] without gradient.
    """

    def logits_for(self, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def close(self) -> None:
        """Release what the teacher keeps (a cache file on disk) once no phase needs it."""


@dataclass(frozen=True)
class DistillTerm:
    """How the student listens to the teacher in one phase."""

    teacher: Teacher
    temperature: float
    coef: float  # gamma in the LLM phase, beta in the CRM phase
    t_squared: bool = True
    use_weights: bool = True  # False is the 'w/o w' ablation (w = 1)
    weight_name: str = "w1"  # w1 when the LLM is the student, w2 when the CRM is
