"""The round schedule of LLMD4Rec and its baselines, as a flat list of phases.

round 0: CRM alone -> C0; LLM alone with C0's item embeddings -> L0 (the baselines)
mutual, rounds 1..R: LLM phase (teacher C_{t-1}) then CRM phase (teacher L_t)
one_way, rounds 1..R: CRM phase with the frozen round-0 LLM as teacher (DLLM2Rec-like)
none: round 0 only (the CRM alone, or the CRM for the embeddings and then the LLM)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.config import Config

ModelName = Literal["crm", "llm"]


@dataclass(frozen=True)
class Phase:
    round: int
    model: ModelName
    teacher: ModelName | None
    ends_round: bool


def plan_phases(config: Config) -> list[Phase]:
    mode = config.distill.mode
    if mode == "none" and config.distill.model == "crm":
        return [Phase(0, "crm", None, True)]
    phases = [Phase(0, "crm", None, False), Phase(0, "llm", None, True)]
    if mode == "none":
        return phases
    for t in range(1, config.distill.rounds + 1):
        if mode == "mutual":
            phases += [Phase(t, "llm", "crm", False), Phase(t, "crm", "llm", True)]
        else:
            phases.append(Phase(t, "crm", "llm", True))
    return phases
