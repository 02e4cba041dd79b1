"""`queue add`: validate every config file first, then add all of its runs or none.

A run whose config hash matches a queued, held, running or succeeded run is a duplicate:
refused (or silently skipped with skip_done) unless forced, so re-adding a sweep only
queues what is not done yet.

A relative ``data.path`` or ``data.item_path`` means relative to the config file, not to
wherever a worker happens to run: it is made absolute here, and must exist.
"""

from __future__ import annotations

import dataclasses
import glob
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from engine.config import Config, ConfigError, expand_file
from llmd4rec_tui.queue.errors import QueueError
from llmd4rec_tui.store.db import Store
from llmd4rec_tui.store.models import Run, RunSummary
from llmd4rec_tui.store.queries import runs_by_config_hash
from llmd4rec_tui.store.records import now_utc

DUPLICATE_STATUSES = ("queued", "held", "running", "succeeded")
_PG_ENQUEUE_LOCK = 7_104_222  # serialises `queue add` on PostgreSQL, as BEGIN IMMEDIATE does on SQLite


@dataclass(frozen=True)
class PendingRun:
    """One validated run, not yet written."""

    source: Path
    config: Config
    config_toml: str


@dataclass(frozen=True)
class AddResult:
    added: tuple[int, ...] = ()
    skipped: tuple[str, ...] = field(default=())  # "name (duplicate of run N)"


def expand_patterns(patterns: list[str]) -> list[Path]:
    """Glob patterns (and plain paths) to files, in the order given, each file once.

    An existing file is taken literally even when its name looks like a pattern (exp[1].toml).
    """
    out: list[Path] = []
    for pattern in patterns:
        literal = Path(pattern).exists() or not glob.has_magic(pattern)
        matches = [pattern] if literal else sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise QueueError(f"{pattern}: no file matches this pattern")
        for match in matches:
            path = Path(match)
            if path not in out:
                out.append(path)
    return out


def validate(paths: list[Path], data_must_exist: bool = True) -> list[PendingRun]:
    """Every run of every file; the first bad file raises its ConfigError. Runs queued held
    may name data that is not there yet (data_must_exist=False): the engine checks it at start."""
    pending: list[PendingRun] = []
    for path in paths:
        configs = [anchor_data_paths(config, path, data_must_exist) for config in expand_file(path)]
        text = path.read_text(encoding="utf-8")
        pending.extend(PendingRun(path, config, text) for config in configs)
    return pending


def anchor_data_paths(config: Config, source: Path, must_exist: bool = True) -> Config:
    """The config with data.path and data.item_path absolute (relative to source's folder), which must exist."""
    anchored: dict[str, Any] = {}
    for key in ("path", "item_path"):
        value = getattr(config.data, key)
        if not value:
            continue
        where = (source.parent / Path(value).expanduser()).resolve()
        if must_exist and not where.is_file():
            raise ConfigError(str(source), f"data.{key}", value, f"an existing file (looked for {where})")
        anchored[key] = str(where)
    return dataclasses.replace(config, data=dataclasses.replace(config.data, **anchored)) if anchored else config


def add_runs(
    store: Store,
    pending: list[PendingRun],
    priority: int = 0,
    force: bool = False,
    skip_done: bool = False,
    hold: bool = False,
) -> AddResult:
    """Write the runs in one transaction; a refused duplicate writes nothing."""
    now = now_utc()
    added: list[int] = []
    skipped: list[str] = []
    with store.write() as session:
        if store.dialect == "postgresql":  # so two adds of one config cannot both pass the duplicate check
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_ENQUEUE_LOCK})
        hashes = {p.config.hash() for p in pending}
        existing = runs_by_config_hash(session, hashes, DUPLICATE_STATUSES)
        taken: dict[str, str] = {}  # hash -> where it was seen in this batch
        for index, item in enumerate(pending):
            digest = item.config.hash()
            seen = f"run {existing[digest]}" if digest in existing else taken.get(digest)
            if seen is not None and not force:
                if skip_done:
                    skipped.append(f"{item.config.run.name} (duplicate of {seen})")
                    continue
                raise QueueError(
                    f"{item.source}: run {item.config.run.name!r} has the same config (hash {digest}) as {seen}; "
                    "pass --force to add it anyway or --skip-done to skip it"
                )
            taken.setdefault(digest, f"{item.source} ({item.config.run.name!r})")
            run = Run(
                name=item.config.run.name,
                source_path=str(item.source),
                config_toml=item.config_toml,
                config_json=item.config.to_json(),
                config_hash=digest,
                dataset=item.config.data.dataset,
                seed=item.config.run.seed,
                tags=list(item.config.run.tags),
                notes=item.config.run.notes,
                status="held" if hold else "queued",
                priority=priority,
                enqueued_at=now + timedelta(microseconds=index),  # distinct, so up/down can swap
                max_attempts=item.config.run.max_attempts,
                environment={},
                protocol={},
            )
            run.summary = RunSummary(metrics={}, last_losses={}, loss_trail=[], pace={})
            session.add(run)
            session.flush()
            added.append(run.id)
    return AddResult(tuple(added), tuple(skipped))
