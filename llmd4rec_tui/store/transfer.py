"""Copying finished runs, with everything recorded about them, from one database into another.

`llmd4rec runs import` gathers runs made on several machines or in separate SQLite files
into one database, so `runs results`, `runs compare` and the TUI see them together. A
copied run is indistinguishable from a local one: every column of its row except the id,
its summary, and all its events, metrics and histograms with ``run_id`` remapped.

What is copied comes from the models (store/models.py), not from lists here: every column
of ``runs`` and every table with a foreign key into ``runs.id`` (read only where the
source has it, so an older source schema still imports and new columns get their defaults).

The queue fields of the last attempt (``worker_id``, ``pid``, ``heartbeat_at``,
``lease_expires_at``) are kept as history rather than cleared: they say which machine and
process ran the attempt, `runs show` reports them, and nothing acts on them for a finished
run (leases are reaped and workers counted only for *running* runs). ``run_dir`` and
``last_checkpoint`` are kept for a succeeded run: they name where its artifacts live on
the source machine. A failed or cancelled run loses them, because `runs retry` resumes in
a run's ``run_dir``: a retried copy must start over in this database's runs folder, never
write into the source run's directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Table, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from llmd4rec_tui.store.db import Store, display_url
from llmd4rec_tui.store.models import Base
from llmd4rec_tui.store.run_filter import RunFilter

#: Runs whose rows no longer change. A lost run is left out: an expired lease does not prove
#: its worker died, so its rows may still be growing; `runs retry` or `rm` settles it first.
IMPORTABLE = ("succeeded", "failed", "cancelled")
#: Imported runs `runs retry` can queue again: they must not resume in the source's files.
RETRYABLE = ("failed", "cancelled")
#: Child rows per insert: bounds memory for runs with 10^5 events.
CHUNK_ROWS = 5_000
#: Ids per `IN (...)`: well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK_IDS = 500
_PG_IMPORT_LOCK = 7_104_222

#: The same attempt of the same run: config, seed and the attempt's start and end to the microsecond.
AttemptKey = tuple[str, datetime | None, datetime | None, int]


class TransferError(Exception):
    """The runs asked for cannot be imported; the message names them and says why."""


@dataclass(frozen=True)
class ImportedRun:
    """One source run and what became of it: its new id, or the id it already had here."""

    source_id: int
    id: int
    name: str
    status: str
    skipped: bool


def _runs_table() -> Table:
    return Base.metadata.tables["runs"]


@cache
def child_tables() -> tuple[tuple[Table, Column[Any]], ...]:
    """Every table whose rows belong to a run, with the column that names the run, parents first."""
    runs = _runs_table()
    out: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        keys = [column for column in table.columns if any(fk.references(runs) for fk in column.foreign_keys)]
        if (table is runs and keys) or len(keys) > 1:
            raise RuntimeError(f"{table.name}: {len(keys)} foreign keys into runs; teach transfer.py to remap them")
        if keys and table is not runs:
            out.append((table, keys[0]))
    return tuple(out)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, resolved; None for other back ends and in-memory databases."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()


def same_database(a: str, b: str) -> bool:
    """Whether two URLs name one database (a SQLite file by its resolved path, else host, port and name)."""
    try:
        first, second = make_url(a), make_url(b)
    except ArgumentError:
        return a == b
    if first.get_backend_name() != second.get_backend_name():
        return False
    if first.get_backend_name() == "sqlite":
        paths = sqlite_path(a), sqlite_path(b)
        return paths[0] is not None and paths[0] == paths[1]
    where = [(url.host or "localhost", url.port, url.database) for url in (first, second)]
    return where[0] == where[1]


def _as_utc(moment: datetime | None) -> datetime | None:
    """Aware UTC: SQLite hands back naive UTC, PostgreSQL the session's zone; a naive value
    bound to PostgreSQL would be read in the server's zone, an aware one into SQLite stored as
    its wall clock."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _in_utc(table: Table, rows: Iterable[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    moments = [column.name for column in table.columns if isinstance(column.type, DateTime)]
    out = [dict(row) for row in rows]
    for row in out:
        for name in moments:
            if name in row:
                row[name] = _as_utc(row[name])
    return out


def _chunks(ids: Sequence[int], size: int = CHUNK_IDS) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """One read transaction on the source, so every row of a run is read as of one moment
    (PostgreSQL's default READ COMMITTED would take a new snapshot per statement)."""
    with store.engine.connect() as connection:
        if store.dialect == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _source_columns(connection: Connection) -> dict[str, list[str]]:
    """Per table to copy, the columns both the models and the source have."""
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    out: dict[str, list[str]] = {}
    for table in (_runs_table(), *(table for table, _ in child_tables())):
        if table.name in present:
            there = {column["name"] for column in inspector.get_columns(table.name)}
            out[table.name] = [column.name for column in table.columns if column.name in there]
    return out


def choose_runs(source: Store, ids: Sequence[int] = (), tags: Sequence[str] = ()) -> list[int]:
    """The ids plus every run with each tag, sorted; with neither, every importable run.

    Refuses (TransferError) unknown ids, tags no run has and chosen runs not finished, so
    the command fails before it opens, let alone creates, the target.
    """
    runs = _runs_table()
    with _snapshot(source) as connection:
        if not ids and not tags:
            stmt = select(runs.c.id).where(runs.c.status.in_(IMPORTABLE))
            return list(connection.scalars(stmt.order_by(runs.c.id)))
        chosen = set(ids)
        for tag in tags:
            tagged = list(connection.scalars(select(runs.c.id).where(*RunFilter(tag=tag).clauses())))
            if not tagged:
                raise TransferError(f"--tag {tag!r}: no run in {display_url(source.url)} has this tag")
            chosen.update(tagged)
        _refuse_unimportable(connection, sorted(chosen))
    return sorted(chosen)


def _refuse_unimportable(connection: Connection, run_ids: Sequence[int]) -> None:
    """Raise naming the ids the source lacks or the runs not finished, and what could be imported."""
    runs = _runs_table()
    rows: list[Any] = []
    for chunk in _chunks(run_ids):
        rows += connection.execute(select(runs.c.id, runs.c.name, runs.c.status).where(runs.c.id.in_(chunk))).all()
    found = {row.id for row in rows}
    missing = [run_id for run_id in run_ids if run_id not in found]
    if missing:
        raise TransferError(f"no run with id {', '.join(map(str, missing))} in the source; nothing imported")
    unfinished = sorted((row for row in rows if row.status not in IMPORTABLE), key=lambda row: row.id)
    if unfinished:
        named = ", ".join(f"run {row.id} ({row.name}) is {row.status}" for row in unfinished)
        finished = sorted(row.id for row in rows if row.status in IMPORTABLE)
        hint = f"; to import the finished ones, name them: {' '.join(map(str, finished))}" if finished else ""
        raise TransferError(
            f"{named}: only {', '.join(IMPORTABLE)} runs can be imported (their rows no longer change); "
            f"nothing imported{hint}"
        )


def _source_runs(connection: Connection, run_ids: Sequence[int], columns: list[str]) -> list[dict[str, Any]]:
    """The runs' rows in id order, once all of them are known to be importable."""
    _refuse_unimportable(connection, run_ids)
    runs = _runs_table()
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(run_ids):
        stmt = select(*(runs.c[name] for name in columns)).where(runs.c.id.in_(chunk)).order_by(runs.c.id)
        rows += _in_utc(runs, (row._mapping for row in connection.execute(stmt)))
    return rows


def _attempt_key(run: Mapping[Any, Any]) -> AttemptKey:
    return run["config_hash"], _as_utc(run["started_at"]), _as_utc(run["finished_at"]), run["seed"]


def _attempts_here(connection: Connection, config_hashes: set[str]) -> dict[AttemptKey, int]:
    """The target's runs that could be one of these attempts, by attempt key (compared in
    Python: the back ends store datetimes differently)."""
    runs = _runs_table()
    wanted = (runs.c.id, runs.c.config_hash, runs.c.started_at, runs.c.finished_at, runs.c.seed)
    out: dict[AttemptKey, int] = {}
    hashes = sorted(config_hashes)
    for start in range(0, len(hashes), CHUNK_IDS):
        stmt = select(*wanted).where(runs.c.config_hash.in_(hashes[start : start + CHUNK_IDS])).order_by(runs.c.id)
        for row in connection.execute(stmt):
            out.setdefault(_attempt_key(row._mapping), row.id)
    return out


def _copy_run(reading: Connection, writing: Connection, run: dict[str, Any], columns: dict[str, list[str]]) -> int:
    """Insert the run under a new id, then stream its child rows across in id order
    (the order the read model relies on: latest metric wins, events oldest first)."""
    runs = _runs_table()
    values = {name: value for name, value in run.items() if name != "id"}
    if values.get("status") in RETRYABLE:
        values.update(run_dir="", last_checkpoint=None)
    new_id: int = writing.execute(insert(runs).returning(runs.c.id), values).scalar_one()
    for table, run_key in child_tables():
        surrogate = table.autoincrement_column
        names = [name for name in columns.get(table.name, []) if surrogate is None or name != surrogate.name]
        if not names:
            continue
        stmt = select(*(table.c[name] for name in names)).where(run_key == run["id"]).order_by(*table.primary_key)
        result = reading.execute(stmt, execution_options={"yield_per": CHUNK_ROWS})
        for rows in result.partitions():
            batch = _in_utc(table, (row._mapping for row in rows))
            for row in batch:
                row[run_key.name] = new_id
            writing.execute(insert(table), batch)
    return new_id


def import_runs(source: Store, target: Store, run_ids: Sequence[int]) -> list[ImportedRun]:
    """Copy the runs from source into target in one write transaction, in source id order.

    A run whose attempt (config hash, seed, start and finish) is already in the target is
    skipped, so importing twice adds nothing. Unknown ids or runs not finished raise
    TransferError before anything is written; any error rolls the whole import back.
    """
    if same_database(source.url, target.url):
        raise TransferError(f"{display_url(source.url)} is the database being imported into")
    wanted = sorted(set(run_ids))
    out: list[ImportedRun] = []
    with _snapshot(source) as reading:
        columns = _source_columns(reading)
        runs = _source_runs(reading, wanted, columns["runs"])
        if not runs:
            return out
        with target.write() as session:
            writing = session.connection()
            if target.dialect == "postgresql":  # concurrent imports would both miss each other's copies
                writing.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_IMPORT_LOCK})
            here = _attempts_here(writing, {run["config_hash"] for run in runs})
            for run in runs:
                key = _attempt_key(run)
                skipped = key in here
                if not skipped:
                    here[key] = _copy_run(reading, writing, run, columns)
                out.append(ImportedRun(run["id"], here[key], run["name"], run["status"], skipped))
    return out
