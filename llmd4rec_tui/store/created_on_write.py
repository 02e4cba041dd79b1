"""A SQLite database that does not exist yet, opened for watching: reads see an empty
llmd4rec database, and the first write creates the file and moves every later read and
write to it. So `llmd4rec tui` on a new path shows an empty Runs screen and leaves no file
behind unless something is written (runs queued from the app, a worker started on it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from llmd4rec_tui.store.db import IMMEDIATE, Store, open_store


class StoreCreatedOnWrite(Store):
    """``url`` names the file to create; until then one in-memory database, shared by the
    app's reading threads (StaticPool), stands in for it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.read_only = False
        self._real: Store | None = None
        self._lock = threading.Lock()
        self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer_sessions = sessionmaker(self.engine.execution_options(**{IMMEDIATE: True}), expire_on_commit=False)
        self.create_schema()

    @property
    def created(self) -> bool:
        return self._real is not None

    def session(self) -> Session:
        return self._real.session() if self._real is not None else self.sessions()

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._lock:
            if self._real is None:
                self._real = open_store(self.url)
                self.engine.dispose()
                self.engine = self._real.engine
        with self._real.write() as session:
            yield session

    def close(self) -> None:
        if self._real is not None:
            self._real.close()
        else:
            self.engine.dispose()
