"""run_summaries.pace: where a run is and how fast it goes (reports.progress facts)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_summaries") as batch:
        batch.add_column(sa.Column("pace", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("run_summaries") as batch:
        batch.drop_column("pace")
