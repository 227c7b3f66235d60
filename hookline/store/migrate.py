"""Schema migrations (Alembic), run on hookline's own engine."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from hookline.store.dialect import take_migration_lock

_SCRIPTS = Path(__file__).parent / "migrations"


class SchemaState(enum.StrEnum):
    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"
    AHEAD = "ahead"
    """The database has a revision this code does not know: a newer release migrated it."""


def _config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade to `revision` (the newest by default); concurrent callers wait for each other."""
    async with engine.begin() as conn:
        await conn.run_sync(take_migration_lock)
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), revision))


async def schema_state(engine: AsyncEngine) -> SchemaState:
    def _state(sync_conn: Any) -> SchemaState:
        current = MigrationContext.configure(sync_conn).get_current_revision()
        if current is None:
            return SchemaState.EMPTY
        scripts = ScriptDirectory.from_config(_config())
        if current == scripts.get_current_head():
            return SchemaState.CURRENT
        known = {rev.revision for rev in scripts.walk_revisions()}
        return SchemaState.BEHIND if current in known else SchemaState.AHEAD

    async with engine.connect() as conn:
        return await conn.run_sync(_state)
