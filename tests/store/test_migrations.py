from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hookline.store import SchemaState, Store, open_store
from hookline.store.tables import metadata


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
