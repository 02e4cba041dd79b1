"""Which runs a listing selects and in what order: the Runs screen's filter and sort.

Both turn into SQL here, so a page of 100 runs out of 10,000 is filtered, sorted and cut
by the database, never in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, or_
from sqlalchemy.sql.elements import ColumnElement

from llmd4rec_tui.store.models import Run, RunSummary
from llmd4rec_tui.store.records import STATUSES

FILTER_KEYS = ("status", "tag", "dataset")


class FilterError(ValueError):
    """A filter query the Runs screen cannot apply; the message names the bad token."""


@dataclass(frozen=True)
class RunFilter:
    """What the Runs screen shows: `status:running,failed tag:x dataset:ml-1m free text`."""

    statuses: tuple[str, ...] = ()
    tag: str | None = None
    dataset: str | None = None
    text: str = ""

    @classmethod
    def parse(cls, query: str) -> RunFilter:
        statuses: tuple[str, ...] = ()
        tag: str | None = None
        dataset: str | None = None
        words: list[str] = []
        for token in query.split():
            key, sep, value = token.partition(":")
            if not sep:
                words.append(token)
                continue
            if key not in FILTER_KEYS:
                raise FilterError(f"filter {token!r}: unknown key {key!r}, expected one of {', '.join(FILTER_KEYS)}")
            if not value:
                raise FilterError(f"filter {token!r}: {key} needs a value, e.g. {key}:x")
            if key == "status":
                statuses = tuple(value.split(","))
                unknown = [s for s in statuses if s not in STATUSES]
                if unknown:
                    expected = ", ".join(STATUSES)
                    raise FilterError(f"filter {token!r}: unknown status {unknown[0]!r}, expected {expected}")
            elif key == "tag":
                tag = value
            else:
                dataset = value
        return cls(statuses, tag, dataset, " ".join(words))

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.statuses:
            out.append(Run.status.in_(self.statuses))
        if self.tag:
            out.append(cast(Run.tags, String).like(f'%"{self.tag}"%'))
        if self.dataset:
            out.append(Run.dataset == self.dataset)
        if self.text:
            pattern = f"%{self.text}%"
            out.append(or_(Run.name.ilike(pattern), Run.notes.ilike(pattern), Run.source_path.ilike(pattern)))
        return out


#: Sortable Runs columns -> what they sort by. Ties fall back to the run id.
SORT_COLUMNS: dict[str, Any] = {
    "id": Run.id,
    "name": Run.name,
    "status": Run.status,
    "attempt": Run.attempts,
    "priority": Run.priority,
    "dataset": Run.dataset,
    "progress": RunSummary.progress,
    "started": Run.started_at,
    "crm": RunSummary.crm_ndcg10,
    "llm": RunSummary.llm_ndcg10,
}


@dataclass(frozen=True)
class RunSort:
    """A listing's order; the default, newest first, is also `runs ls`'s."""

    column: str = "id"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.column not in SORT_COLUMNS:
            raise ValueError(f"sort column {self.column!r}: expected one of {', '.join(SORT_COLUMNS)}")

    def order_by(self) -> list[Any]:
        order = SORT_COLUMNS[self.column]
        ordering = [order.desc() if self.descending else order.asc()]
        if self.column != "id":
            ordering.append(Run.id.desc() if self.descending else Run.id.asc())
        return ordering
