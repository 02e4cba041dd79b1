"""Opening the database: engine creation, SQLite pragmas on every connection, sessions.

SQLite runs in WAL mode with a busy timeout and foreign keys, so readers (TUI, CLI) never
block the worker's writes. Write transactions start with ``BEGIN IMMEDIATE`` so two
writers queue on the busy timeout instead of failing half-way with "database is locked".
Any other SQLAlchemy URL (PostgreSQL) works unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000
IDLE_IN_TRANSACTION_MS = 15_000  # PostgreSQL ends a session stuck inside a transaction this long
IMMEDIATE = "llmd4rec_immediate"  # execution option: begin SQLite transactions as writers


class StoreError(Exception):
    """The database cannot be used; the message names it and says why."""


def display_url(url: str) -> str:
    """The URL with any password masked, for error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of the driver's guesses.
    dbapi_connection.isolation_level = None


def _sqlite_read_only_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """A read-only connection changes nothing: no WAL switch, no synchronous setting."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
    dbapi_connection.isolation_level = None


def sqlite_file(url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for other back ends and in-memory databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _read_only_creator(path: Path) -> Callable[[], Any]:
    """mode=ro; immutable=1 where even that cannot open (a WAL file whose -shm cannot be
    created: a read-only directory or file system, where nobody can be writing either)."""
    uri = path.resolve().as_uri()

    def connect() -> Any:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the WAL index
            return connection
        except sqlite3.OperationalError:
            connection.close()
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)

    return connect


def _read_only_error(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


def sqlite_writable(path: Path) -> bool:
    """Whether this process can write the SQLite file (root ignores file modes, so ask SQLite):
    a rolled-back no-op write that needs the same locks and files as a real one."""
    try:
        connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.OperationalError as exc:
        if _read_only_error(exc):
            return False
        raise
    try:
        connection.execute("BEGIN IMMEDIATE")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.execute(f"PRAGMA user_version = {int(version)}")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        if _read_only_error(exc):
            return False
        raise
    finally:
        connection.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, read_only: bool = False) -> Engine:
    try:
        path = sqlite_file(url)
        if read_only and path is not None:  # mode=ro: the file is opened, never written or switched to WAL
            engine = create_engine("sqlite://", creator=_read_only_creator(path))
            event.listen(engine, "connect", _sqlite_read_only_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        if (
            make_url(url).get_backend_name() == "postgresql"
        ):  # a hung (SIGSTOPped) client must not hold row locks forever
            options = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
            return create_engine(url, pool_pre_ping=True, connect_args={"options": options})
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"--db {display_url(url)}: not a usable SQLAlchemy URL ({exc})") from exc


class Store:
    """A database connection pool plus session factories; cheap to pass around."""

    def __init__(self, url: str, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only and sqlite_file(url) is not None
        self.engine = make_engine(url, read_only)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer_sessions = sessionmaker(self.engine.execution_options(**{IMMEDIATE: True}), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        """A session for reading. Write through write(): on SQLite a deferred transaction that
        reads and then writes can fail at once with "database is locked" under a concurrent writer."""
        return self.sessions()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One short write transaction: committed on success, rolled back on error."""
        if self.read_only:
            raise StoreError(read_only_message(self.url))
        with self._writer_sessions() as session, session.begin():
            yield session

    def create_schema(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        from llmd4rec_tui.store.schema import upgrade_schema

        upgrade_schema(self)

    def close(self) -> None:
        self.engine.dispose()


def read_only_message(url: str) -> str:
    return (
        f"the database {display_url(url)} is read-only; this command writes to it (reading commands "
        "such as runs ls/show work). Copy it somewhere writable, or pass another --db"
    )


def open_store(url: str, for_reading: bool = False) -> Store:
    """Open (and create or upgrade) the database at url; StoreError says why it cannot.

    A SQLite file is looked at read-only first: one that holds tables but is not an
    llmd4rec database is refused before anything (WAL mode included) touches it. A file
    that cannot be written is refused for writing and, for_reading, opened read-only
    (it must be at the newest schema then, as nothing can upgrade it).
    """
    from llmd4rec_tui.store.schema import refuse_foreign, require_head

    path = sqlite_file(url)
    if path is not None and path.exists() and path.stat().st_size > 0:
        probe = Store(url, read_only=True)
        try:
            with probe.engine.connect() as connection:
                refuse_foreign(connection, url)
            writable = sqlite_writable(path)
            if not writable and for_reading:
                with probe.engine.connect() as connection:
                    require_head(connection, url)
                return probe
        except (OperationalError, DatabaseError, sqlite3.Error) as exc:
            probe.close()
            raise StoreError(f"cannot open the database {display_url(url)}: {_reason(exc)}") from exc
        except StoreError:
            probe.close()
            raise
        probe.close()
        if not writable:
            raise StoreError(read_only_message(url))
    store = Store(url)
    try:
        store.create_schema()
    except (OperationalError, DatabaseError) as exc:
        store.close()
        raise StoreError(f"cannot open the database {display_url(url)}: {_reason(exc)}") from exc
    except StoreError:
        store.close()
        raise
    return store


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip()
