"""Review dumps as published: one JSON object per line, optionally gzipped.

The layout is recognised from the fields of the first record:

* ``amazon-2014/2018``: reviewerID, asin, unixReviewTime (rating: overall; meta: asin, title)
* ``amazon-2023``: user_id, parent_asin, timestamp (rating; meta: parent_asin, title)
* ``yelp``: user_id, business_id, date (stars; business file: business_id, name)

The rating is read only when data.min_rating is set. Amazon 2023 timestamps are
milliseconds and are turned into seconds; Yelp dates (``2019-01-31 12:00:00``) are read
as UTC. Meta files (``meta_*.json(.gz)``, Yelp's
business file) give titles; the 2014 meta files are Python literals rather than JSON
(single quotes), so a line that is not JSON is read as a Python literal (never executed).
Items without a meta record, or without a title, get empty text; a repeated meta record
keeps the first.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from engine.data.errors import DataError
from engine.data.interactions import Interactions, interactions_from_lists
from engine.data.items import ItemText
from engine.data.sources import DataSource, decode_text

TimeKind = Literal["seconds", "milliseconds", "date"]


@dataclass(frozen=True)
class ReviewLayout:
    name: str
    family: str  # the data.format that reads it: amazon or yelp
    user: str
    item: str
    time: str
    time_kind: TimeKind
    rating: str
    meta_item: str
    meta_title: str

    @property
    def fields(self) -> str:
        return f"{self.user}/{self.item}/{self.time}"


AMAZON_2014 = ReviewLayout(
    "amazon-2014/2018", "amazon", "reviewerID", "asin", "unixReviewTime", "seconds", "overall", "asin", "title"
)
AMAZON_2023 = ReviewLayout(
    "amazon-2023", "amazon", "user_id", "parent_asin", "timestamp", "milliseconds", "rating", "parent_asin", "title"
)
YELP = ReviewLayout("yelp", "yelp", "user_id", "business_id", "date", "date", "stars", "business_id", "name")
LAYOUTS = (AMAZON_2014, AMAZON_2023, YELP)


def read_reviews(source: DataSource, raw: bytes, family: str, with_rating: bool) -> tuple[Interactions, ReviewLayout]:
    """Interactions in file order, and the layout found; ``family`` is amazon, yelp or auto."""
    lines = _lines(source, raw)
    first = _record(source, lines[0], 1)
    layout = detect_layout(source, first, family)
    users: list[str] = []
    items: list[str] = []
    times = np.empty(len(lines), dtype=np.float64)
    ratings = np.empty(len(lines), dtype=np.float64) if with_rating else None
    for index, line in enumerate(lines):
        number = index + 1
        record = first if index == 0 else _record(source, line, number)
        users.append(_id(source, record, layout.user, number, layout))
        items.append(_id(source, record, layout.item, number, layout))
        times[index] = _time(source, record, layout, number)
        if ratings is not None:
            ratings[index] = _number(source, record, layout.rating, number, f"a numeric rating ({layout.rating})")
    if layout.time_kind == "milliseconds":
        times /= 1000.0
    return interactions_from_lists(users, items, times, ratings), layout


def read_meta(source: DataSource, raw: bytes, layout: ReviewLayout) -> ItemText:
    """Titles per item id from a meta file of the reviews' layout."""
    text: dict[str, str] = {}
    for index, line in enumerate(_lines(source, raw)):
        record = _record(source, line, index + 1)
        item = _id(source, record, layout.meta_item, index + 1, layout)
        title = record.get(layout.meta_title)
        if item not in text:
            text[item] = " ".join(str(title).split()) if title is not None else ""
    return ItemText(text, {})


def detect_layout(source: DataSource, record: dict[str, Any], family: str) -> ReviewLayout:
    """The first layout whose user, item and time fields the record has."""
    for layout in LAYOUTS:
        if all(key in record for key in (layout.user, layout.item, layout.time)):
            if family not in ("auto", layout.family):
                raise DataError(
                    source.label,
                    f"the review fields of data.format = {family!r}; this file has those of "
                    f"{layout.name} ({layout.fields}), so set data.format = {layout.family!r}",
                    value=sorted(record)[:12],
                    line=1,
                )
            return layout
    known = "; ".join(f"{layout.fields} ({layout.name})" for layout in LAYOUTS if family in ("auto", layout.family))
    raise DataError(source.label, f"a review record with the fields {known}", value=sorted(record)[:12], line=1)


def _lines(source: DataSource, raw: bytes) -> list[str]:
    text = decode_text(source, raw).rstrip("\n")
    if not text.strip():
        raise DataError(source.label, "one JSON object per line", value="(empty file)")
    return text.split("\n")


def _record(source: DataSource, line: str, number: int) -> dict[str, Any]:
    parsed: Any
    try:
        parsed = json.loads(line)
    except json.JSONDecodeError:
        try:
            parsed = ast.literal_eval(line)  # the 2014 meta files: Python dict literals
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise DataError(source.label, "one JSON object per line", value=line[:120], line=number) from None
    if not isinstance(parsed, dict):
        raise DataError(source.label, "one JSON object per line", value=line[:120], line=number)
    return parsed


def _id(source: DataSource, record: dict[str, Any], key: str, number: int, layout: ReviewLayout) -> str:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or (isinstance(value, str) and not value.strip()):
        found = "(missing)" if key not in record else value
        raise DataError(source.label, f"a non-empty id in field {key!r} ({layout.name})", value=found, line=number)
    return str(value).strip()


def _number(source: DataSource, record: dict[str, Any], key: str, number: int, what: str) -> float:
    value = record.get(key, "(missing)")
    try:
        if isinstance(value, bool):
            raise ValueError
        result = float(value)
    except (TypeError, ValueError):
        raise DataError(source.label, what, value=value, line=number, column=key) from None
    if not math.isfinite(result):
        raise DataError(source.label, what, value=value, line=number, column=key)
    return result


def _time(source: DataSource, record: dict[str, Any], layout: ReviewLayout, number: int) -> float:
    if layout.time_kind != "date":
        unit = "Unix milliseconds" if layout.time_kind == "milliseconds" else "Unix seconds"
        return _number(source, record, layout.time, number, f"a numeric time in {unit} ({layout.name})")
    value = record.get(layout.time, "(missing)")
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise DataError(
            source.label, "a date like '2019-01-31 12:00:00' (yelp)", value=value, line=number, column=layout.time
        ) from None
