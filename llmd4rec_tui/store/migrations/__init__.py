"""Alembic migrations of the store schema, applied automatically by store.db.open_store."""
