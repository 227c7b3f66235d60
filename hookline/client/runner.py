"""What every client command shares: --url/--key/--json, the event loop, one-line errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import click

from hookline.client.http import DEFAULT_URL, ApiClient, ClientError, base_url, open_client

Work = Callable[[ApiClient], Awaitable[int]]
EXIT_INTERRUPTED = 130


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(ctx_url: str, key: str | None, work: Work, *, connections: int = 4) -> None:
    """Run `work` with a client of the API; its result is the exit code."""
    if not key:
        raise click.ClickException("no API key: give --key or set HOOKLINE_KEY")
    try:
        base_url(ctx_url)
    except ClientError as exc:
        raise click.ClickException(exc.message) from exc

    async def main() -> int:
        async with open_client(ctx_url, key, connections=connections) as client:
            return await work(client)

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            code = runner.run(main())
    except ClientError as exc:
        raise click.ClickException(exc.message) from exc
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    if code:
        sys.exit(code)


def api_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--url, --key and --json."""
    f = click.option("--json", "as_json", is_flag=True, help="JSON lines instead of tables.")(f)
    f = click.option(
        "--key", envvar="HOOKLINE_KEY", help="API key [env HOOKLINE_KEY].", show_envvar=False
    )(f)
    return click.option(
        "--url",
        envvar="HOOKLINE_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="The server [env HOOKLINE_URL].",
    )(f)


def page_hint(next_token: str | None) -> None:
    if next_token:
        click.echo(f"more: --next-token {next_token}", err=True)
