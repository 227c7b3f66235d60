"""`hookline migrate`: create or upgrade the database schema."""

from __future__ import annotations

import click

from hookline.commands.common import common, run, settings_from
from hookline.config import masked
from hookline.logging import configure_logging
from hookline.startup import check_database_file
from hookline.store import SchemaState, open_store


@click.command(short_help="Create or upgrade the database schema.")
@common
def migrate(config: str | None, database_url: str | None) -> None:
    """Create or upgrade the database schema to this release's version."""
    configure_logging()
    settings = settings_from(config, database_url)

    async def go() -> SchemaState:
        check_database_file(settings.database_url, create=True)
        store = open_store(settings.database_url, settings.database)
        try:
            before = await store.schema_state()
            if before is SchemaState.AHEAD:
                raise click.ClickException(
                    "the database schema is newer than this hookline; upgrade hookline"
                )
            await store.migrate()
            return before
        finally:
            await store.close()

    before = run(go())
    click.echo(f"schema was {before.value}; now current ({masked(settings)['database_url']})")
