"""Schema migrations (Alembic), run on hookline's own engine.

Only `migrate` imports Alembic: checking the schema, which every start does,
reads the revision table and the scripts' revision lines itself, so that a
server does not carry Alembic (about 10 MB) for its whole life.
"""

from __future__ import annotations

import enum
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hookline.store.dialect import take_migration_lock

_SCRIPTS = Path(__file__).parent / "migrations"


class SchemaState(enum.StrEnum):
    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"
    AHEAD = "ahead"
    """The database has a revision this code does not know: a newer release migrated it."""


if TYPE_CHECKING:
    from alembic.config import Config


def _config(connection: Any = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade to `revision` (the newest by default); concurrent callers wait for each other."""
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(take_migration_lock)
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), revision))


async def schema_state(engine: AsyncEngine) -> SchemaState:
    def _state(sync_conn: Any) -> SchemaState:
        if not sync_conn.dialect.has_table(sync_conn, "alembic_version"):
            return SchemaState.EMPTY
        current = sync_conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        if current is None:
            return SchemaState.EMPTY
        known, head = revisions()
        if current == head:
            return SchemaState.CURRENT
        return SchemaState.BEHIND if current in known else SchemaState.AHEAD

    async with engine.connect() as conn:
        return await conn.run_sync(_state)


_REVISION = re.compile(r"""^(down_)?revision\s*=\s*["']([^"']+)["']""", re.MULTILINE)


@functools.cache
def revisions() -> tuple[frozenset[str], str]:
    """Every revision of the scripts, and the head (the one no other revises), read from
    their `revision = "…"` and `down_revision = "…"` lines."""
    known: set[str] = set()
    revised: set[str] = set()
    for script in (_SCRIPTS / "versions").glob("*.py"):
        for down, name in _REVISION.findall(script.read_text()):
            (revised if down else known).add(name)
    (head,) = known - revised
    return frozenset(known), head
