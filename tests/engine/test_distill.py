"""The distillation maths against hand computations: ranks, sample weights, KL with T."""

from __future__ import annotations

import math

import pytest
import torch

from engine.distill import WEIGHT_EDGES, histogram, kl_teacher_student, sample_weights, target_rank


def test_target_rank_counts_ties_against_the_target_and_ignores_padding() -> None:
    logits = torch.tensor(
        [
            [9.0, 1.0, 3.0, 2.0, 3.0],  # padding column scores highest: ignored
            [0.0, 5.0, 4.0, 3.0, 2.0],
        ]
    )
    targets = torch.tensor([2, 4])
    # row 0: item 2 scores 3.0, item 4 ties at 3.0 -> tie counts in the target's favour
    # row 1: item 4 scores 2.0, three items above it
    assert target_rank(logits, targets).tolist() == [2, 4]


@pytest.mark.parametrize(
    ("r_student", "r_teacher", "expected"),
    [
        (10, 5, 2.0),  # teacher twice as good: 1 + (10-5)/5 = 2
        (6, 4, 1.5),  # 1 + 2/4
        (40, 4, 2.0),  # 1 + 36/4 = 10, clipped to 2
        (5, 5, 1.0),  # tie
        (4, 6, 0.5),  # student better: 1 - (6-4)/4
        (2, 10, 0.0),  # 1 - 8/2 = -3, clipped to 0
        (1, 1, 1.0),
    ],
)
def test_sample_weights_follow_the_paper_formula(r_student: int, r_teacher: int, expected: float) -> None:
    w = sample_weights(torch.tensor([r_student]), torch.tensor([r_teacher]))
    assert w.item() == pytest.approx(expected)


def test_w1_and_w2_are_the_same_formula_with_roles_swapped() -> None:
    r_llm, r_crm = torch.tensor([3, 8, 20]), torch.tensor([6, 4, 20])
    w1 = sample_weights(r_llm, r_crm)  # LLM learns from CRM
    w2 = sample_weights(r_crm, r_llm)  # CRM learns from LLM
    # r_l=3 < r_c=6: w1 = 1 - (6-3)/3 = 0 ; w2: r_c > r_l -> 1 + 3/3 = 2
    # r_l=8 > r_c=4: w1 = 1 + 4/4 = 2 ; w2 = 1 - 4/4 = 0
    assert w1.tolist() == [0.0, 2.0, 1.0]
    assert w2.tolist() == [2.0, 0.0, 1.0]


def test_kl_with_temperature_matches_a_hand_computation() -> None:
    teacher = torch.tensor([[0.0, 2.0, 0.0, -2.0]])
    student = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    t = 2.0
    p = [math.exp(x / t) for x in (2.0, 0.0, -2.0)]
    p = [x / sum(p) for x in p]
    q = [math.exp(x / t) for x in (0.0, 1.0, 0.0)]
    q = [x / sum(q) for x in q]
    expected = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    got = kl_teacher_student(teacher, student, t, t_squared=False)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    assert kl_teacher_student(teacher, student, t, t_squared=True).item() == pytest.approx(expected * 4, rel=1e-5)


def test_kl_is_zero_for_equal_logits_and_gradient_reaches_only_the_student() -> None:
    teacher = torch.randn(3, 6, requires_grad=True)
    student = teacher.detach().clone().requires_grad_(True)
    kl = kl_teacher_student(teacher, student, 1.5)
    assert torch.allclose(kl, torch.zeros(3), atol=1e-6)
    (kl.sum() + kl_teacher_student(teacher, student * 2, 1.5).sum()).backward()
    assert teacher.grad is None
    assert student.grad is not None


def test_histogram_uses_fixed_bins_over_0_to_2() -> None:
    counts = histogram(torch.tensor([0.0, 0.05, 1.0, 1.99, 2.0]), WEIGHT_EDGES)
    assert len(counts) == 20 and sum(counts) == 5
    assert counts[0] == 2 and counts[10] == 1 and counts[19] == 2
