"""Alembic environment: migrate on the connection open_store() hands over, or on -x url=..."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from llmd4rec_tui.settings import resolve_db_url
from llmd4rec_tui.store.db import make_engine
from llmd4rec_tui.store.models import Base


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _migrate(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or resolve_db_url(None)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _migrate(connection)
            connection.commit()
    finally:
        engine.dispose()


run()
