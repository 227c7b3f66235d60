"""`hookline account show`: an account's callback credentials."""

from __future__ import annotations

import json

import click

from hookline.commands.common import common, settings_from, with_store
from hookline.serialize import account_credentials_json


@click.group()
def account() -> None:
    """Show an account's callback credentials."""


@account.command("show", short_help="Print an account's callback credentials (both environments).")
@common
@click.argument("name")
def account_show(config: str | None, database_url: str | None, name: str) -> None:
    """Print NAME's callback auth keys and webhook secrets, per environment, as JSON."""
    settings = settings_from(config, database_url)
    found = with_store(settings, lambda store: store.accounts.all_credentials(name))
    click.echo(json.dumps(account_credentials_json(found), indent=2))
