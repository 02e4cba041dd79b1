"""What the comparison reads (`runs compare`, `runs results`, the Compare screen) and how
the TUI opens a database it must not create or upgrade.

Runs, events and workers come from store/queries.py, shared with the CLI. Every function
takes a Session framed by the caller and only reads.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session

from engine.config import flatten
from llmd4rec_tui.search.tags import in_tag_selection
from llmd4rec_tui.store.db import Store, StoreError, display_url, sqlite_file, sqlite_writable
from llmd4rec_tui.store.models import Run, RunSummary
from llmd4rec_tui.store.queries import resolved_config
from llmd4rec_tui.store.records import CompareInput
from llmd4rec_tui.store.run_filter import RunFilter
from llmd4rec_tui.store.schema import current_revisions, head_revisions, known_revisions

__all__ = ["CompareInput", "compare_inputs", "open_for_reading", "run_ids_with_tag"]


def _test_metrics(summary: RunSummary | None) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for model, splits in ((summary.metrics or {}) if summary else {}).items():
        test = splits.get("test") if isinstance(splits, dict) else None
        if isinstance(test, dict):
            out[str(model)] = {str(k): float(v) for k, v in test.items() if isinstance(v, int | float)}
    return out


def compare_inputs(session: Session, run_ids: list[int]) -> tuple[CompareInput, ...]:
    """The runs in the order asked; raises KeyError naming ids that do not exist."""
    found = {run.id: run for run in session.scalars(select(Run).where(Run.id.in_(run_ids)))}
    missing = [i for i in run_ids if i not in found]
    if missing:
        raise KeyError(f"no run with id {', '.join(str(i) for i in missing)}")
    return tuple(
        CompareInput(
            id=run.id,
            name=run.name,
            status=run.status,
            seed=run.seed,
            config=flatten(resolved_config(run.config_json)),
            protocol=dict(run.protocol or {}),
            metrics=_test_metrics(run.summary),
        )
        for run in (found[run_id] for run_id in run_ids)
    )


def run_ids_with_tag(session: Session, tag: str) -> tuple[list[int], list[int]]:
    """The runs with this tag for a results table, and apart from them the search trials
    it leaves out (every trial, unless the tag is its study's: search/tags.py)."""
    stmt = select(Run.id, Run.tags).where(*RunFilter(tag=tag).clauses()).order_by(Run.id)
    kept: list[int] = []
    trials: list[int] = []
    for run_id, tags in session.execute(stmt):
        (kept if in_tag_selection(tags or [], tag) else trials).append(run_id)
    return kept, trials


def open_for_reading(url: str, read_only: bool = False) -> Store:
    """Open an existing llmd4rec database without creating or upgrading anything.

    With read_only, a SQLite file is opened with mode=ro: not even its journal mode changes
    (`runs import` reads its source so). A file this process cannot write is opened so too.

    Raises StoreError with a message a person can act on: the file is missing, it is not
    a database, it is not an llmd4rec database, or its schema is newer than this code.
    """
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:") and not path.exists():
            raise StoreError(f"no database at {path}: add runs with `llmd4rec queue add CONFIG.toml` or pass --db PATH")
    file = sqlite_file(url)
    if file is not None and not read_only and file.exists():
        try:
            read_only = not sqlite_writable(file)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {display_url(url)}: {exc}") from exc
    store = Store(url, read_only=read_only)
    try:
        with store.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            revisions = current_revisions(connection) if "alembic_version" in tables else frozenset()
            connection.rollback()
    except (OperationalError, DatabaseError) as exc:
        store.close()
        reason = str(exc.orig).strip() if exc.orig is not None else str(exc)
        raise StoreError(f"cannot open the database {display_url(url)}: {reason}") from exc
    missing = {"runs", "run_summaries", "events", "workers"} - tables
    if missing:
        store.close()
        raise StoreError(f"{display_url(url)} is not an llmd4rec database (no {', '.join(sorted(missing))} tables)")
    unknown = revisions - known_revisions()
    if unknown:
        store.close()
        raise StoreError(
            f"{display_url(url)}: schema revision {', '.join(sorted(unknown))} is newer than this llmd4rec "
            f"knows (newest: {', '.join(sorted(head_revisions()))}); upgrade llmd4rec to read it"
        )
    return store
