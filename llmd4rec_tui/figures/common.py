"""What several kinds share: one protocol per figure, the caption, a run's final value."""

from __future__ import annotations

from typing import Any

from llmd4rec_tui.figures.data import FigureError
from llmd4rec_tui.reporting import protocol_label
from llmd4rec_tui.store.figure_source import FigureSource

MODEL_NAMES = {"crm": "CRM", "llm": "LLM"}


def one_protocol(source: FigureSource) -> str:
    """The protocol every chosen run was evaluated under; FigureError when they differ."""
    labels = sorted({protocol_label(run) for run in source.runs})
    if len(labels) != 1:
        raise FigureError(
            f"the chosen runs were evaluated under {len(labels)} protocols ({'; '.join(labels)}): "
            "a figure compares runs of one protocol, choose those"
        )
    return labels[0]


def caption(source: FigureSource, what: str) -> str:
    """'protocol: ...; <what>; runs 3-8 (seeds 0, 1, 2)': the line every figure carries."""
    ids = ", ".join(str(run.id) for run in source.runs)
    seeds = ", ".join(str(s) for s in sorted({run.seed for run in source.runs}))
    return f"protocol: {one_protocol(source)}; {what}; runs {ids} (seeds {seeds})"


def final_value(per_round: dict[int, Any], run_id: int, model: str, metric: str) -> float | None:
    """The model's metric after its last evaluated round (what the run reports as final)."""
    rounds = per_round.get(run_id, {})
    for round_ in sorted(rounds, reverse=True):
        value = rounds[round_].get(model, {}).get(metric)
        if value is not None:
            return float(value)
    return None


def metric_title(metric: str, split: str) -> str:
    return f"{metric.upper()} ({split})"
