"""Table definitions (SQLAlchemy Core). Migrations in `migrations/versions` must match them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite keeps no offset (12:00+02:00 would read back as naive 12:00), so
    values are converted to UTC before they are stored and marked UTC when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # SQLite stores text; one function each way instead of this type's step and then
    # SQLite DATETIME's (a dict-built format string): a task row has five datetimes.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_datetime_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_datetime
        return super().result_processor(dialect, coltype)


def _sqlite_datetime_text(value: datetime | None) -> str | None:
    """SQLite DATETIME's own text form (microseconds always written, so text order is
    time order), in UTC."""
    global _last_text  # a one-entry cache, replaced whole (so safe across threads)
    if value is None:
        return None
    last = _last_text
    if value is last[0]:
        return last[1]  # a transaction's rows share their `now`: created_at, updated_at, at…
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        value = value.astimezone(UTC)
    text = value.isoformat(" ", "microseconds")[:26]  # without its "+00:00"
    _last_text = (value, text)
    return text


_last_text: tuple[datetime | None, str | None] = (None, None)


def _sqlite_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    read = datetime.fromisoformat(value)
    return read.replace(tzinfo=UTC) if read.tzinfo is None else read.astimezone(UTC)


JSONType: sa.types.TypeEngine[Any] = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Callback credentials, one row per account and environment (a test key never sees
# the live ones): Scale's auth header value, and Standard Webhooks secrets (the
# previous one keeps signing until previous_secret_expires_at).
account_credentials = sa.Table(
    "account_credentials",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("environment", sa.String(8), primary_key=True),
    sa.Column("callback_auth_key", sa.String(100), nullable=False),
    sa.Column("webhook_secret", sa.String(100), nullable=False),
    sa.Column("previous_webhook_secret", sa.String(100), nullable=True),
    sa.Column("previous_secret_expires_at", UTCDateTime, nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("environment", sa.String(8), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.String(100), nullable=False),
    sa.Column("owner", sa.String(320), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("environment", sa.String(8), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("param_history", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("account_id", "environment", "name"),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
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
    sa.UniqueConstraint("account_id", "environment", "name"),
    sa.Index(None, "account_id", "environment", "project", "id"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
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
    # Work in progress: who holds the task, until when, how often it was tried,
    # and when a retried task may run again.
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_expires_at", UTCDateTime, nullable=True),
    # The API key that claimed the lease through the worker API (None: a dispatcher);
    # only that key may heartbeat, complete or fail it.
    sa.Column("lease_key_id", sa.String(32), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("run_after", UTCDateTime, nullable=True),
    # Dedup is the database's job: one live task per (account, environment, unique_id).
    sa.Index(
        "uq_tasks_unique_id",
        "account_id",
        "environment",
        "unique_id",
        unique=True,
        sqlite_where=sa.text("unique_id IS NOT NULL"),
        postgresql_where=sa.text("unique_id IS NOT NULL"),
    ),
    # Lists are newest first within an account and environment; ids sort by time.
    sa.Index("ix_tasks_scope_id", "account_id", "environment", "id"),
    sa.Index("ix_tasks_scope_status_id", "account_id", "environment", "status", "id"),
    sa.Index("ix_tasks_scope_project_id", "account_id", "environment", "project", "id"),
    sa.Index("ix_tasks_scope_batch_id", "account_id", "environment", "batch", "id"),
    # Claims look at pending tasks only: finished rows leave this index.
    # Pending tasks in the claim's order (priority first, none last; then oldest),
    # so that a claim reads only the rows it takes. SQLite sorts NULL lowest and
    # has no NULLS LAST in indexes; its plain DESC is the same order.
    sa.Index(
        "ix_tasks_claimable",
        "type",
        sa.column("priority").desc().nulls_last(),
        "id",
        postgresql_where=sa.text("status = 'pending'"),
    ).ddl_if(dialect="postgresql"),
    sa.Index(
        "ix_tasks_claimable",
        "type",
        sa.column("priority").desc(),
        "id",
        sqlite_where=sa.text("status = 'pending'"),
    ).ddl_if(dialect="sqlite"),
)

task_events = sa.Table(
    "task_events",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("task_id", sa.String(24), sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("environment", sa.String(8), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("details", JSONType, nullable=True),
    sa.Index("ix_task_events_task_id_id", "task_id", "id"),
    sa.Index("ix_task_events_scope_id", "account_id", "environment", "id"),
)

audits = sa.Table(
    "audits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(24), sa.ForeignKey("tasks.id"), nullable=False, index=True),
    sa.Column("audited_by", sa.String(320), nullable=False),
    sa.Column("audited_at", UTCDateTime, nullable=False),
    sa.Column("audit_time_secs", sa.Float, nullable=True),
    sa.Column("audit_result", sa.String(16), nullable=False),
    sa.Column("audit_source", sa.String(16), nullable=False),
    sa.Column("comments", sa.Text, nullable=True),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("environment", sa.String(8), nullable=False),
    sa.Column("filename", sa.String(500), nullable=True),
    sa.Column("content_type", sa.String(200), nullable=True),
    sa.Column("size_bytes", sa.BigInteger, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("source_url", sa.String(2048), nullable=True),
    sa.Column("storage_path", sa.String(1024), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("environment", sa.String(8), nullable=False),
    sa.Column("task_id", sa.String(24), sa.ForeignKey("tasks.id"), nullable=True),
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
    sa.Index("ix_deliveries_task_id", "task_id"),
    sa.Index("ix_deliveries_scope_status", "account_id", "environment", "status", "updated_at"),
    # The sender's claim looks at pending deliveries only.
    sa.Index(
        "ix_deliveries_due",
        "next_attempt_at",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    # Leases of crashed senders, found by the periodic sweep.
    sa.Index(
        "ix_deliveries_leased",
        "lease_expires_at",
        sqlite_where=sa.text("status = 'delivering'"),
        postgresql_where=sa.text("status = 'delivering'"),
    ),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("delivery_id", sa.String(24), sa.ForeignKey("deliveries.id"), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(40), nullable=True),
    sa.Column("duration_ms", sa.Float, nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Index("ix_delivery_attempts_delivery_id_id", "delivery_id", "id"),
)
