from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hookline.ids import hash_api_key, new_api_key
from hookline.models import Environment
from hookline.store import SchemaState, Store, open_store
from hookline.store.migrate import migrate
from hookline.store.tables import JSONType, UTCDateTime, metadata
from tests.conftest import BACKENDS, PG_URL, create_database, drop_database


async def test_migrations_match_table_definitions(store: Store) -> None:
    """The migrated schema has exactly the tables, columns and indexes tables.py declares."""

    def diff(sync_conn: Any) -> list[Any]:
        dialect = sync_conn.dialect.name

        def for_this_dialect(obj: Any, _name: Any, type_: str, reflected: bool, _to: Any) -> bool:
            # Alembic does not read `ddl_if`: an index declared for another backend is not ours.
            ddl_if = getattr(obj, "_ddl_if", None) if type_ == "index" and not reflected else None
            return ddl_if is None or ddl_if.dialect in (None, dialect)

        context = MigrationContext.configure(
            sync_conn, opts={"compare_type": True, "include_object": for_this_dialect}
        )
        return [
            d
            for d in compare_metadata(context, metadata)
            # alembic_version is Alembic's own table.
            if not (d[0] == "remove_table" and d[1].name == "alembic_version")
        ]

    async with store.db.engines.write.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def test_revisions_read_from_the_scripts_are_alembics() -> None:
    """schema_state reads the scripts' revision lines itself (no Alembic import at start-up);
    it must find what Alembic finds."""
    from alembic.script import ScriptDirectory

    from hookline.store.migrate import _config, revisions

    scripts = ScriptDirectory.from_config(_config())
    known, head = revisions()
    assert head == scripts.get_current_head()
    assert known == {rev.revision for rev in scripts.walk_revisions()}


def test_a_server_start_does_not_import_alembic() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, hookline.runtime, hookline.cli, hookline.store.migrate; "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_schema_state_follows_migration(tmp_path: Path) -> None:
    """An empty database reports empty, then current once migrated; migrating again is a no-op."""
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await store.schema_state() is SchemaState.EMPTY
        await store.migrate()
        assert await store.schema_state() is SchemaState.CURRENT
        await store.migrate()
        assert await store.schema_state() is SchemaState.CURRENT
    finally:
        await store.close()


async def test_unknown_revision_reads_as_ahead(tmp_path: Path) -> None:
    """A revision this code does not know means a newer release migrated the database."""
    import sqlalchemy as sa

    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}")
    try:
        await store.migrate()
        async with store.db.write() as conn:
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
        assert await store.schema_state() is SchemaState.AHEAD
    finally:
        await store.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    """The embedded database uses WAL, a busy timeout and foreign keys."""
    import sqlalchemy as sa

    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    try:
        async with store.db.read() as conn:
            journal = await conn.scalar(sa.text("PRAGMA journal_mode"))
            busy = await conn.scalar(sa.text("PRAGMA busy_timeout"))
            foreign_keys = await conn.scalar(sa.text("PRAGMA foreign_keys"))
        assert (journal, busy, foreign_keys) == ("wal", 30000, 1)
    finally:
        await store.close()


@pytest.fixture(params=BACKENDS)
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database of the backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    assert PG_URL is not None
    url = await create_database(PG_URL)
    yield url
    await drop_database(url, PG_URL)


# The tables as revision 0004 left them, as far as this test writes them.
_old_accounts = sa.table(
    "accounts",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("created_at", UTCDateTime),
    sa.column("callback_auth_key", sa.String),
    sa.column("webhook_secret", sa.String),
    sa.column("previous_webhook_secret", sa.String),
    sa.column("previous_secret_expires_at", UTCDateTime),
)
_old_keys = sa.table(
    "api_keys",
    *(sa.column(c, sa.String) for c in ("id", "environment", "key_hash", "scopes", "owner")),
    sa.column("account_id", sa.Integer),
    sa.column("created_at", UTCDateTime),
)
_old_tasks = sa.table(
    "tasks",
    *(sa.column(c, sa.String) for c in ("id", "environment", "type", "status", "lease_owner")),
    sa.column("account_id", sa.Integer),
    sa.column("params", JSONType),
    sa.column("metadata", JSONType),
    sa.column("callback_completed", sa.Boolean),
    sa.column("times_redone", sa.Integer),
    *(sa.column(c, UTCDateTime) for c in ("created_at", "updated_at", "lease_expires_at")),
)


async def test_upgrade_gives_each_environment_credentials_and_keeps_data(empty_url: str) -> None:
    """Upgrading a 0004 database keeps the live credentials, keys and tasks, and adds test ones."""
    now = datetime.now(UTC).replace(microsecond=0)
    expires = now + timedelta(hours=3)
    live_key, live_id = new_api_key(Environment.LIVE, os.urandom)
    test_key, test_id = new_api_key(Environment.TEST, os.urandom)
    store = open_store(empty_url)
    try:
        await migrate(store.db.engines.write, "0004")
        async with store.db.write() as conn:
            for account_id, name in ((1, "old-acme"), (2, "old-other")):
                await conn.execute(
                    sa.insert(_old_accounts).values(
                        id=account_id,
                        name=name,
                        created_at=now,
                        callback_auth_key=f"auth-{name}",
                        webhook_secret=f"whsec_{name}",
                        previous_webhook_secret=f"whsec_before_{name}",
                        previous_secret_expires_at=expires,
                    )
                )
            await conn.execute(
                sa.insert(_old_keys),
                [
                    {
                        "id": key_id,
                        "account_id": 1,
                        "environment": env.value,
                        "key_hash": hash_api_key(key),
                        "scopes": "admin,audit,submit,work",
                        "owner": "ops@old-acme",
                        "created_at": now,
                    }
                    for key, key_id, env in (
                        (live_key, live_id, Environment.LIVE),
                        (test_key, test_id, Environment.TEST),
                    )
                ],
            )
            await conn.execute(
                sa.insert(_old_tasks).values(
                    id="0" * 24,
                    account_id=1,
                    environment="live",
                    type="label",
                    status="pending",
                    params={"text": "kept"},
                    metadata={},
                    callback_completed=False,
                    times_redone=0,
                    created_at=now,
                    updated_at=now,
                    lease_owner="w1",
                    lease_expires_at=expires,
                )
            )
        assert await store.schema_state() is SchemaState.BEHIND

        await store.migrate()

        assert await store.schema_state() is SchemaState.CURRENT
        live, test = await store.accounts.all_credentials("old-acme")
        assert (live.environment, test.environment) == (Environment.LIVE, Environment.TEST)
        assert (live.callback_auth_key, live.webhook_secret) == ("auth-old-acme", "whsec_old-acme")
        assert live.previous_webhook_secret == "whsec_before_old-acme"
        assert live.previous_secret_expires_at == expires
        assert test.webhook_secret.startswith("whsec_")
        assert test.callback_auth_key
        assert test.previous_webhook_secret is None
        other_live, other_test = await store.accounts.all_credentials("old-other")
        assert other_live.webhook_secret == "whsec_old-other"
        assert len({test.webhook_secret, other_test.webhook_secret, live.webhook_secret}) == 3
        assert len({test.callback_auth_key, other_test.callback_auth_key}) == 2

        principal = await store.accounts.authenticate(live_key)
        assert principal is not None
        assert await store.accounts.authenticate(test_key) is not None
        task = await store.tasks.get(principal, "0" * 24)
        assert (task.params, task.worker) == ({"text": "kept"}, "w1")
        async with store.db.read() as conn:
            columns = await conn.run_sync(
                lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("accounts")}
            )
        assert columns == {"id", "name", "created_at"}
    finally:
        await store.close()
