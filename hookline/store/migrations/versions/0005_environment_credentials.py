"""Callback credentials per account and environment; the API key that holds a lease.

The live environment keeps the account's existing credentials (callbacks
already being verified go on verifying); the test environment gets new ones.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import base64
import os

import sqlalchemy as sa
from alembic import op

from hookline.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_CREDENTIAL_COLUMNS = (
    "callback_auth_key",
    "webhook_secret",
    "previous_webhook_secret",
    "previous_secret_expires_at",
)


def _auth_key() -> str:
    return os.urandom(24).hex()


def _secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def upgrade() -> None:
    op.create_table(
        "account_credentials",
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("callback_auth_key", sa.String(100), nullable=False),
        sa.Column("webhook_secret", sa.String(100), nullable=False),
        sa.Column("previous_webhook_secret", sa.String(100), nullable=True),
        sa.Column("previous_secret_expires_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "environment", name="pk_account_credentials"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_account_credentials_account_id_accounts"
        ),
    )
    conn = op.get_bind()
    credentials = sa.table(
        "account_credentials",
        sa.column("account_id", sa.Integer),
        sa.column("environment", sa.String),
        sa.column("callback_auth_key", sa.String),
        sa.column("webhook_secret", sa.String),
        sa.column("previous_webhook_secret", sa.String),
        sa.column("previous_secret_expires_at", UTCDateTime),
    )
    # Typed, so that the expiry reads back as a datetime on SQLite too.
    old = sa.table(
        "accounts",
        sa.column("id", sa.Integer),
        *(sa.column(c, sa.String) for c in _CREDENTIAL_COLUMNS[:3]),
        sa.column("previous_secret_expires_at", UTCDateTime),
    )
    rows = []
    for account_id, auth, secret, previous, expires in conn.execute(sa.select(old)).all():
        rows.append(
            {
                "account_id": account_id,
                "environment": "live",
                "callback_auth_key": auth or _auth_key(),
                "webhook_secret": secret or _secret(),
                "previous_webhook_secret": previous,
                "previous_secret_expires_at": expires,
            }
        )
        rows.append(
            {
                "account_id": account_id,
                "environment": "test",
                "callback_auth_key": _auth_key(),
                "webhook_secret": _secret(),
                "previous_webhook_secret": None,
                "previous_secret_expires_at": None,
            }
        )
    if rows:
        op.bulk_insert(credentials, rows)
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), not a batch: SQLite's batch
    # copies the table and drops the original, which its foreign keys refuse.
    for column in _CREDENTIAL_COLUMNS:
        op.drop_column("accounts", column)
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("lease_key_id", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("tasks", "lease_key_id")
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("callback_auth_key", sa.String(100), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("previous_webhook_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", UTCDateTime, nullable=True))
    # The live credentials go back onto the account; the test ones are dropped.
    op.execute(
        "UPDATE accounts SET"
        " callback_auth_key = (SELECT callback_auth_key FROM account_credentials AS ac"
        " WHERE ac.account_id = accounts.id AND ac.environment = 'live'),"
        " webhook_secret = (SELECT webhook_secret FROM account_credentials AS ac"
        " WHERE ac.account_id = accounts.id AND ac.environment = 'live'),"
        " previous_webhook_secret = (SELECT previous_webhook_secret FROM account_credentials AS ac"
        " WHERE ac.account_id = accounts.id AND ac.environment = 'live'),"
        " previous_secret_expires_at = (SELECT previous_secret_expires_at"
        " FROM account_credentials AS ac"
        " WHERE ac.account_id = accounts.id AND ac.environment = 'live')"
    )
    op.drop_table("account_credentials")
