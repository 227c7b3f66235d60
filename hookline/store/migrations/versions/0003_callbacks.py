"""Callback credentials on accounts; the deliveries outbox and its attempt log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import base64
import os

import sqlalchemy as sa
from alembic import op

from hookline.store.tables import JSONType, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("callback_auth_key", sa.String(100), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("previous_webhook_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", UTCDateTime, nullable=True))
    # Existing accounts get their credentials now; new ones get them when created.
    conn = op.get_bind()
    for (account_id,) in conn.execute(sa.text("SELECT id FROM accounts")).all():
        conn.execute(
            sa.text(
                "UPDATE accounts SET callback_auth_key = :auth, webhook_secret = :secret "
                "WHERE id = :id"
            ),
            {
                "id": account_id,
                "auth": os.urandom(24).hex(),
                "secret": "whsec_" + base64.b64encode(os.urandom(32)).decode(),
            },
        )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("task_id", sa.String(24), nullable=True),
        sa.Column("batch", sa.String(500), nullable=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_deliveries_account_id_accounts"
        ),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_deliveries_task_id_tasks"),
    )
    op.create_index("ix_deliveries_task_id", "deliveries", ["task_id"])
    op.create_index(
        "ix_deliveries_scope_status",
        "deliveries",
        ["account_id", "environment", "status", "updated_at"],
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("delivery_id", sa.String(24), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.String(40), nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name="fk_delivery_attempts_delivery_id_deliveries",
        ),
    )
    op.create_index(
        "ix_delivery_attempts_delivery_id_id", "delivery_attempts", ["delivery_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    with op.batch_alter_table("accounts") as batch:
        for column in (
            "previous_secret_expires_at",
            "previous_webhook_secret",
            "webhook_secret",
            "callback_auth_key",
        ):
            batch.drop_column(column)
