"""Accounts, keys, projects, batches, tasks, audits and files.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from hookline.store.tables import JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_api_keys_account_id_accounts"
        ),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("param_history", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_projects_account_id_accounts"
        ),
        sa.UniqueConstraint(
            "account_id", "environment", "name", name="uq_projects_account_id_environment_name"
        ),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("project", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("callback", sa.String(2048), nullable=True),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("calibration_batch", sa.Boolean, nullable=False),
        sa.Column("self_label_batch", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("finalized_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batches"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_batches_account_id_accounts"
        ),
        sa.UniqueConstraint(
            "account_id", "environment", "name", name="uq_batches_account_id_environment_name"
        ),
    )
    op.create_index(
        "ix_batches_account_id_environment_project_id",
        "batches",
        ["account_id", "environment", "project", "id"],
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("instruction", sa.Text, nullable=True),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("response", JSONType, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("tags", JSONType, nullable=True),
        sa.Column("unique_id", sa.String(500), nullable=True),
        sa.Column("project", sa.String(500), nullable=True),
        sa.Column("batch", sa.String(500), nullable=True),
        sa.Column("callback_url", sa.String(2048), nullable=True),
        sa.Column("callback_completed", sa.Boolean, nullable=False),
        sa.Column("times_redone", sa.Integer, nullable=False),
        sa.Column("priority", sa.Integer, nullable=True),
        sa.Column("customer_review_status", sa.String(16), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("completed_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_tasks_account_id_accounts"
        ),
    )
    op.create_index(
        "uq_tasks_unique_id",
        "tasks",
        ["account_id", "environment", "unique_id"],
        unique=True,
        sqlite_where=sa.text("unique_id IS NOT NULL"),
        postgresql_where=sa.text("unique_id IS NOT NULL"),
    )
    op.create_index("ix_tasks_scope_id", "tasks", ["account_id", "environment", "id"])
    op.create_index(
        "ix_tasks_scope_status_id", "tasks", ["account_id", "environment", "status", "id"]
    )
    op.create_index(
        "ix_tasks_scope_project_id", "tasks", ["account_id", "environment", "project", "id"]
    )
    op.create_index(
        "ix_tasks_scope_batch_id", "tasks", ["account_id", "environment", "batch", "id"]
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(24), nullable=False),
        sa.Column("audited_by", sa.String(320), nullable=False),
        sa.Column("audited_at", UTCDateTime, nullable=False),
        sa.Column("audit_time_secs", sa.Float, nullable=True),
        sa.Column("audit_result", sa.String(16), nullable=False),
        sa.Column("audit_source", sa.String(16), nullable=False),
        sa.Column("comments", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audits"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_audits_task_id_tasks"),
    )
    op.create_index("ix_audits_task_id", "audits", ["task_id"])
    op.create_table(
        "files",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("filename", sa.String(500), nullable=True),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("source_url", sa.String(2048), nullable=True),
        sa.Column("storage_path", sa.String(1024), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_files_account_id_accounts"
        ),
    )


def downgrade() -> None:
    for table in ("files", "audits", "tasks", "batches", "projects", "api_keys", "accounts"):
        op.drop_table(table)
