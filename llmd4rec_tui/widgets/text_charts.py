"""One-line charts drawn with block characters, for table cells and histogram strips.

They fit where a plot widget cannot: a sparkline in a Runs table cell, and one line per
epoch or round in the w1/w2 and parameter distribution panels (TensorBoard's
distributions, in a terminal).
"""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"


def _resample(values: Sequence[float], width: int) -> list[float]:
    """Average values into at most width buckets, keeping their order."""
    if len(values) <= width:
        return list(values)
    out = []
    for i in range(width):
        start = i * len(values) // width
        end = max(start + 1, (i + 1) * len(values) // width)
        chunk = values[start:end]
        out.append(sum(chunk) / len(chunk))
    return out


def sparkline(values: Sequence[float], width: int = 12) -> str:
    """The shape of a series (the last `width` buckets of it), scaled to its own range."""
    points = _resample(values, width)
    if not points:
        return ""
    low, high = min(points), max(points)
    span = high - low
    if span <= 0:
        return BLOCKS[4] * len(points)
    return "".join(BLOCKS[1 + round((v - low) / span * 7)] for v in points)


def histogram_strip(counts: Sequence[float], width: int | None = None, peak: float | None = None) -> str:
    """Bin counts as bar heights, stretched or squeezed to about `width` characters.

    A shared `peak` makes several strips (epochs, rounds) comparable by eye.
    """
    bins = list(counts)
    if width and len(bins) > width:
        bins = _resample(bins, width)
    elif width and bins:
        bins = [c for c in bins for _ in range(width // len(bins))]
    top = peak if peak is not None else max(bins, default=0)
    if top <= 0:
        return BLOCKS[0] * len(bins)
    return "".join(BLOCKS[min(8, round(max(0.0, c) / top * 8))] for c in bins)
