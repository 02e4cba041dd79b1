from __future__ import annotations

from tests.fixtures.databases import postgres_url

__all__ = ["postgres_url"]
