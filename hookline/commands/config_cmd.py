"""`hookline config show`: the effective configuration."""

from __future__ import annotations

import json

import click

from hookline.commands.common import common, settings_from
from hookline.config import masked


@click.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show", short_help="Print the effective configuration, secrets masked.")
@common
def config_show(config: str | None, database_url: str | None) -> None:
    """Print the effective configuration (file + HOOKLINE_* + flags), secrets masked."""
    settings = settings_from(config, database_url)
    click.echo(json.dumps(masked(settings), indent=2, default=str))
