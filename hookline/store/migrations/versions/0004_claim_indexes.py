"""Claim indexes in claim order; an index for expired delivery leases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_claimable", table_name="tasks")
    priority: sa.UnaryExpression[object] = sa.column("priority").desc()
    if op.get_bind().dialect.name == "postgresql":
        # SQLite sorts NULL lowest, so its DESC already puts tasks without a priority last.
        priority = priority.nulls_last()
    op.create_index(
        "ix_tasks_claimable",
        "tasks",
        ["type", priority, "id"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_deliveries_leased",
        "deliveries",
        ["lease_expires_at"],
        sqlite_where=sa.text("status = 'delivering'"),
        postgresql_where=sa.text("status = 'delivering'"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_leased", table_name="deliveries")
    op.drop_index("ix_tasks_claimable", table_name="tasks")
    op.create_index(
        "ix_tasks_claimable",
        "tasks",
        ["type", "priority", "id"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
