from __future__ import annotations

from tests.fixtures.databases import db_url, postgres_url

__all__ = ["db_url", "postgres_url"]
