"""`hookline keys create|list|revoke`: API keys."""

from __future__ import annotations

import json
import sys

import click

from hookline.commands.common import common, settings_from, with_store
from hookline.models import ALL_SCOPES, TEST_KEY_SCOPES, Environment, Scope


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


def _parse_scopes(value: str | None, environment: Environment) -> frozenset[Scope]:
    """--scopes as a set; left out, all scopes for a live key and no admin for a test key."""
    choices = ",".join(s.value for s in Scope)
    if value is None:
        return TEST_KEY_SCOPES if environment is Environment.TEST else ALL_SCOPES
    names = [s.strip() for s in value.split(",") if s.strip()]
    if not names:
        raise click.ClickException(
            f"--scopes is empty; give at least one of {choices} (or leave --scopes out)"
        )
    unknown = [name for name in names if name not in {s.value for s in Scope}]
    if unknown:
        raise click.ClickException(
            f"--scopes: {unknown[0]!r} is not a scope; use a comma list of {choices}"
        )
    return frozenset(Scope(name) for name in names)


@keys.command("create", short_help="Create an API key; it is printed once, on the last line.")
@common
@click.option("--account", required=True, help="Account name; created if new.")
@click.option("--test", is_flag=True, help="A test_ key (tasks complete at once) instead of live_.")
@click.option(
    "--scopes",
    help="Comma list of submit,work,audit,admin [default: all; test keys: submit,work,audit].",
)
@click.option(
    "--email",
    "--owner",
    "email",
    help="Member e-mail shown by GET /v1/teams [default NAME@hookline.local].",
)
def keys_create(
    config: str | None,
    database_url: str | None,
    account: str,
    test: bool,
    scopes: str | None,
    email: str | None,
) -> None:
    """Create an API key; the key is printed alone on the last line, and only once."""
    settings = settings_from(config, database_url)
    environment = Environment.TEST if test else Environment.LIVE
    scope_set = _parse_scopes(scopes, environment)
    key = with_store(
        settings,
        lambda store: store.accounts.create_key(
            account=account, environment=environment, scopes=scope_set, email=email
        ),
    )
    click.echo(
        f"Created a {environment.value} key for account {account!r} "
        f"with scopes {','.join(sorted(scope_set))}:",
        err=not sys.stdout.isatty(),
    )
    click.echo(key)


@keys.command("list")
@common
@click.option("--account", help="Only this account's keys.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def keys_list(
    config: str | None, database_url: str | None, account: str | None, as_json: bool
) -> None:
    """List keys by id (the secret part is never stored)."""
    settings = settings_from(config, database_url)
    found = with_store(settings, lambda store: store.accounts.list_keys(account))
    line = "{:<12}  {:<20} {:<4}  {:<7}  {:<24} {}"
    if found and not as_json:
        click.echo(line.format("ID", "ACCOUNT", "ENV", "STATE", "SCOPES", "OWNER"))
    for key in found:
        row = {
            "id": key.id,
            "account": key.account_name,
            "environment": key.environment.value,
            "scopes": ",".join(sorted(key.scopes)),
            "owner": key.email,
            "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            state = "revoked" if key.revoked_at else "active"
            click.echo(
                line.format(
                    key.id, key.account_name, key.environment.value, state, row["scopes"], key.email
                )
            )
    if not found and not as_json:
        click.echo("no keys", err=True)


@keys.command("revoke")
@common
@click.argument("key_id")
def keys_revoke(config: str | None, database_url: str | None, key_id: str) -> None:
    """Revoke a key by its id (from `keys list`) or the whole key."""
    settings = settings_from(config, database_url)
    with_store(settings, lambda store: store.accounts.revoke_key(key_id))
    click.echo(f"revoked {key_id}")
