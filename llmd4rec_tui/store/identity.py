"""Which database this is: a uuid kept in store_meta, and the folder name it gives runs.

Run ids restart at 1 in every database, so ``runs/<id>`` alone lets two databases in one
folder share (and delete) each other's checkpoints. Run directories live under
``<db-name>-<uuid8>/`` instead, and each carries a stamp with the full uuid.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from llmd4rec_tui.store.db import Store, sqlite_file
from llmd4rec_tui.store.models import StoreMeta

DATABASE_ID = "database_id"


def database_id(store: Store) -> str:
    """The database's uuid, created on first use where an older database has none."""
    with store.session() as session:
        found = session.scalar(select(StoreMeta.value).where(StoreMeta.key == DATABASE_ID))
    if found:
        return found
    try:
        with store.write() as session:
            session.add(StoreMeta(key=DATABASE_ID, value=uuid.uuid4().hex))
    except IntegrityError:  # another process created it first: use theirs
        pass
    with store.session() as session:
        return str(session.scalar(select(StoreMeta.value).where(StoreMeta.key == DATABASE_ID)))


def database_label(store: Store) -> str:
    """``<db-name>-<uuid8>``: readable in a listing of runs/, unique per database."""
    path = sqlite_file(store.url)
    name = path.stem if path is not None else (make_url(store.url).database or store.dialect)
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}-{database_id(store)[:8]}"
