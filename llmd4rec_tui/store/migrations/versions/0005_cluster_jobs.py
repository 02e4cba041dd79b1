"""cluster_jobs: workers placed on Slurm or Ray; workers.cluster_job; runs.preemptions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("array_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id"),
    )
    with op.batch_alter_table("cluster_jobs") as batch_op:
        batch_op.create_index("ix_cluster_jobs_array_id", ["array_id"], unique=False)
    with op.batch_alter_table("workers") as batch_op:
        batch_op.add_column(sa.Column("cluster_job", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_workers_cluster_job", ["cluster_job"], unique=False)
    with op.batch_alter_table("runs") as batch_op:
        batch_op.add_column(sa.Column("preemptions", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch_op:
        batch_op.drop_column("preemptions")
    with op.batch_alter_table("workers") as batch_op:
        batch_op.drop_index("ix_workers_cluster_job")
        batch_op.drop_column("cluster_job")
    op.drop_table("cluster_jobs")
