"""The phase plan of every distillation mode."""

from __future__ import annotations

from engine.config import config_from_dict
from engine.schedule import Phase, plan_phases


def plan(**distill: object) -> list[tuple[int, str, str | None, bool]]:
    config = config_from_dict({"distill": distill})
    return [(p.round, p.model, p.teacher, p.ends_round) for p in plan_phases(config)]


def test_crm_alone_is_one_phase() -> None:
    assert plan(mode="none", model="crm") == [(0, "crm", None, True)]


def test_llm_alone_trains_the_crm_first_for_its_embeddings() -> None:
    assert plan(mode="none", model="llm") == [(0, "crm", None, False), (0, "llm", None, True)]


def test_mutual_alternates_llm_then_crm_each_round() -> None:
    assert plan(mode="mutual", rounds=2) == [
        (0, "crm", None, False),
        (0, "llm", None, True),
        (1, "llm", "crm", False),
        (1, "crm", "llm", True),
        (2, "llm", "crm", False),
        (2, "crm", "llm", True),
    ]


def test_one_way_trains_only_the_crm_from_the_llm() -> None:
    assert plan(mode="one_way", rounds=2) == [
        (0, "crm", None, False),
        (0, "llm", None, True),
        (1, "crm", "llm", True),
        (2, "crm", "llm", True),
    ]


def test_single_round_ablation() -> None:
    phases = plan_phases(config_from_dict({"distill": {"mode": "mutual", "rounds": 1}}))
    assert phases[-1] == Phase(1, "crm", "llm", True) and len(phases) == 4
