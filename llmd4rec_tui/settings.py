"""Where the database is: `--db`, then LLMD4REC_DB, then ./runs.db."""

from __future__ import annotations

import os

DEFAULT_DB = "sqlite:///runs.db"
ENV_DB = "LLMD4REC_DB"


def resolve_db_url(value: str | None = None) -> str:
    """Any SQLAlchemy URL; a bare path means a SQLite file."""
    url = value or os.environ.get(ENV_DB) or DEFAULT_DB
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url
