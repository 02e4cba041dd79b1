"""What the compare table and the results table share: protocol groups, seed groups, mean ±
std, the best row per metric, config differences and the cell and LaTeX formats.

Pure functions over CompareInput records (no SQLAlchemy), used by llmd4rec_tui.compare
(`runs compare`, the Compare screen) and llmd4rec_tui.results (`runs results`, the
Results screen), so a fix to one format reaches both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from llmd4rec_tui.store.records import CompareInput

#: Config keys that label or vary within a group rather than define it.
GROUPING_IGNORED = frozenset({"run.name", "run.tags", "run.notes", "run.seed", "run.max_attempts"})


@dataclass(frozen=True)
class MetricStat:
    mean: float
    std: float
    n: int


def mean_std(values: list[float]) -> MetricStat:
    """Mean and sample standard deviation (0 for a single value)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return MetricStat(mean, std, n)


def plain(value: Any) -> str:
    """A config value as one stable string: containers as compact sorted JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def protocol_label(run: CompareInput) -> str:
    """The evaluation protocol as a stable string; from the run, else from its eval config."""
    protocol = run.protocol or {k: v for k, v in run.config.items() if k.startswith("eval.")}
    if not protocol:
        return "unknown protocol"
    return ", ".join(f"{k}={plain(v)}" for k, v in sorted(protocol.items()))


def by_protocol(runs: Iterable[CompareInput]) -> dict[str, list[CompareInput]]:
    """Runs evaluated alike, in first-seen order: only these may be ranked against each other."""
    out: dict[str, list[CompareInput]] = {}
    for run in runs:
        out.setdefault(protocol_label(run), []).append(run)
    return out


def group_key(run: CompareInput) -> str:
    """Equal for runs that differ only in their seed and labels: one row, mean ± std."""
    kept = {k: v for k, v in run.config.items() if k not in GROUPING_IGNORED}
    return json.dumps(kept, sort_keys=True, default=str)


def differing_keys(runs: Sequence[CompareInput]) -> tuple[str, ...]:
    """Config keys whose value is not the same in every run (seed and labels aside)."""
    keys = sorted({k for run in runs for k in run.config} - GROUPING_IGNORED)
    missing = object()
    return tuple(k for k in keys if len({plain(run.config.get(k, missing)) for run in runs}) > 1)


def best_indices(means: Sequence[float | None], min_rows: int = 2) -> tuple[int, ...]:
    """The rows with the highest mean (ties all count; higher is better for every ranking
    metric); none when fewer than min_rows rows have a value."""
    present = [(i, mean) for i, mean in enumerate(means) if mean is not None]
    if not present or len(present) < min_rows:
        return ()
    top = max(mean for _, mean in present)
    return tuple(i for i, mean in present if math.isclose(mean, top, rel_tol=1e-12, abs_tol=1e-15))


def format_stat(stat: MetricStat | None, digits: int = 4, pm: str = " ± ") -> str:
    if stat is None:
        return "-"
    if stat.n > 1:
        return f"{stat.mean:.{digits}f}{pm}{stat.std:.{digits}f}"
    return f"{stat.mean:.{digits}f}"


def format_delta(delta: float | None, digits: int = 4) -> str:
    return "-" if delta is None else f"{delta:+.{digits}f}"


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
          "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"$\pm$", "Δ": r"$\Delta$",
          "→": r"$\rightarrow$", "†": r"$^\dagger$", "<": r"$<$", ">": r"$>$"}  # fmt: skip


def latex_escape(text: str) -> str:
    """Text for a LaTeX table cell: specials escaped, ± Δ → † < > as math."""
    return "".join(_LATEX.get(ch, ch) for ch in text)
