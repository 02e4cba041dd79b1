"""How the CLI and the TUI write statuses, durations, times, rates and numbers: one place,
so `runs ls` and the Runs screen agree on every cell.

Standard library and the store's records only (no Rich, Textual or SQLAlchemy): a style is
a Rich style string the caller applies, a cell is plain text.

Clock skew is handled one way everywhere: a moment ahead of this machine's clock (written
by a worker on another machine) counts as now, so an age or an elapsed time is never
negative.
"""

from __future__ import annotations

from datetime import datetime

from llmd4rec_tui.reports.progress import progress_at
from llmd4rec_tui.store.records import RunRecord, utc

#: One style per status, for Rich (`runs ls`, `runs import`) and Textual (Runs, Run screens).
STATUS_STYLES = {
    "queued": "cyan",
    "held": "yellow",
    "running": "bold blue",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "magenta",
    "lost": "red",
}
#: Plot series -> (plotext marker, colour), the same in every plot of the Run screen (losses,
#: validation per epoch, metrics per round): no two series of one plot share a marker, so a
#: legend reads without telling colours apart.
PLOT_SERIES = {
    "ce": ("braille", "blue"),
    "total": ("•", "green"),
    "kl": ("x", "magenta"),
    "wkl": ("+", "orange"),
    "crm": ("•", "cyan"),
    "llm": ("x", "yellow"),
}
#: What a missing value shows as in a table cell.
MISSING = "-"


def status_style(status: str) -> str:
    return STATUS_STYLES.get(status, "")


def status_label(run: RunRecord, compact: bool = False) -> str:
    """The status with what qualifies it: a cancel on its way, how a run failed.

    compact (the Runs screen's narrow column): 'running*', and 'failed·oom' for an
    infrastructure failure only (a traceback is the usual case); otherwise (`runs ls`,
    `runs show`): 'cancelling', 'failed (exception)', 'failed (oom)'.
    """
    if run.cancel_requested and run.status == "running":
        return "running*" if compact else "cancelling"
    kind = run.failure_kind
    if kind is None or kind == run.status or run.status == "queued":
        return run.status
    if compact:
        return f"{run.status}·{kind}" if run.status == "failed" and kind != "exception" else run.status
    return f"{run.status} ({kind})"


def seconds_between(start: datetime, end: datetime) -> float:
    """end - start in seconds, never negative (a start ahead of this clock counts as now)."""
    return max(0.0, (utc(end) - utc(start)).total_seconds())


def format_duration(seconds: float | None, missing: str = MISSING) -> str:
    """h:mm:ss, or m:ss under an hour; a negative span (clock skew) shows as 0:00."""
    if seconds is None:
        return missing
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_age(seconds: float | None, missing: str = MISSING) -> str:
    """How long ago, in the largest whole unit: '42s ago', '3m ago', '5h ago', '2d ago'."""
    if seconds is None:
        return missing
    value = int(max(0.0, seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size:
            return f"{value // size}{unit} ago"
    return f"{value}s ago"


def format_moment(moment: datetime | None, missing: str = MISSING) -> str:
    """A stored time as 'YYYY-MM-DD HH:MM:SS' in UTC (the store writes UTC)."""
    return missing if moment is None else utc(moment).strftime("%Y-%m-%d %H:%M:%S")


def format_metric(value: float | None, digits: int = 4, missing: str = MISSING) -> str:
    """A metric cell: fixed decimals so a column of them lines up."""
    return missing if value is None else f"{value:.{digits}f}"


def format_value(value: object, digits: int = 4) -> str:
    """Any stored value: numbers with fixed decimals (booleans and ints as written), the rest as text."""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_rate(per_second: float | None, unit: str = "/s", missing: str = MISSING) -> str:
    """A throughput: '850/s', '12.3k/s', '1.5M/s'."""
    if per_second is None:
        return missing
    for suffix, size in (("M", 1e6), ("k", 1e3)):
        if per_second >= size:
            return f"{per_second / size:.1f}{suffix}{unit}"
    return f"{per_second:.0f}{unit}" if per_second >= 10 else f"{per_second:.1f}{unit}"


def format_progress(run: RunRecord, missing: str = MISSING) -> str:
    """Where a run is: 'r1 llm e3 40%' (the share only while it runs)."""
    if run.round is None or run.phase is None:
        return missing
    text = f"r{run.round} {run.phase}"
    if run.epoch is not None:
        text += f" e{run.epoch}"
    if run.progress is not None and run.status == "running":
        text += f" {run.progress:.0%}"
    return text


def clip(text: str, width: int) -> str:
    """At most width characters; a cut shows as a trailing '…'."""
    return text if len(text) <= width else text[: width - 1] + "…"


def format_eta(row: RunRecord, now: datetime) -> str:
    """Time to the end of the running phase at its measured pace (its epoch cap: at most)."""
    if row.status != "running":
        return "-"
    eta = progress_at(row.pace, now.timestamp()).eta_s
    return "-" if not eta else format_duration(eta)  # 0: the estimate ran out before the next event
