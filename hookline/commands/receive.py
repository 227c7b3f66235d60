"""`hookline receive`: a development callback receiver that verifies signatures."""

from __future__ import annotations

import click

from hookline.commands.common import common, run, settings_from, with_store
from hookline.models import Environment
from hookline.startup import DEFAULT_ACCOUNT


@click.command(short_help="Print callbacks as they arrive and verify their signatures.")
@common
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=9000, show_default=True, help="Port to listen on.")
@click.option(
    "--account",
    "account_name",
    default=DEFAULT_ACCOUNT,
    show_default=True,
    help="Verify with this account's webhook secret and callback auth key, read from the database.",
)
@click.option(
    "--test",
    "test_environment",
    is_flag=True,
    help="Verify with the account's test-environment credentials (callbacks of test_ keys).",
)
@click.option(
    "--secret",
    envvar="HOOKLINE_RECEIVE_SECRET",
    help="Verify with this webhook secret (whsec_…) instead of reading the database.",
)
def receive(
    config: str | None,
    database_url: str | None,
    host: str,
    port: int,
    account_name: str,
    test_environment: bool,
    secret: str | None,
) -> None:
    """A development callback receiver: print each callback and verify its signature.

    Answers 200 to a callback whose Standard Webhooks signature (and, with the
    account's credentials, scale-callback-auth header) verifies, 400 otherwise.
    Point a task's callback_url at it, e.g. http://127.0.0.1:9000/callback.
    """
    from hookline.receiver import parse_secret, receiver_app, serve_receiver

    auth_key = None
    if secret is None:
        settings = settings_from(config, database_url)
        try:
            environment = Environment.TEST if test_environment else Environment.LIVE
            creds = with_store(
                settings, lambda store: store.accounts.credentials(account_name, environment)
            )
        except click.ClickException as exc:
            raise click.ClickException(
                f"cannot read account {account_name!r}'s webhook secret: {exc.message}; run "
                "`hookline receive` where `hookline serve` runs (the same database), or pass "
                "--secret whsec_… (from `hookline account show NAME`)"
            ) from exc
        secret, auth_key = creds.webhook_secret, creds.callback_auth_key
        source = f"account {account_name!r}, {environment.value} environment"
    else:
        source = "--secret"
    try:
        webhook = parse_secret(secret)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--secret") from exc
    app = receiver_app(webhook, callback_auth_key=auth_key, echo=click.echo)

    def ready(url: str) -> None:
        click.echo(f"Receiving callbacks on {url}/… (verifying with {source}); Ctrl+C stops.")

    async def go() -> None:
        try:
            await serve_receiver(app, host=host, port=port, ready=ready)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
            ) from exc

    run(go())
