"""Leases and attempts on tasks, the claim index, and the task_events audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from hookline.store.tables import JSONType, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("run_after", UTCDateTime, nullable=True))
    op.create_index(
        "ix_tasks_claimable",
        "tasks",
        ["type", "priority", "id"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "task_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.String(24), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("details", JSONType, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_task_events"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_task_events_task_id_tasks"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_task_events_account_id_accounts"
        ),
    )
    op.create_index("ix_task_events_task_id_id", "task_events", ["task_id", "id"])
    op.create_index("ix_task_events_scope_id", "task_events", ["account_id", "environment", "id"])


def downgrade() -> None:
    op.drop_table("task_events")
    op.drop_index("ix_tasks_claimable", "tasks")
    with op.batch_alter_table("tasks") as batch:
        for column in ("run_after", "attempts", "lease_expires_at", "lease_owner"):
            batch.drop_column(column)
