"""Getting the database ready before anything runs: the file, the schema, the first account.

Used by the roles (`runtime`) and by the commands that open the store once
(`hookline migrate`, `hookline keys …`). A start-up that cannot go on raises
`StartupFailed`, whose message says what to do; the CLI prints it as one line.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import click
import structlog

from hookline.aio import Backoff
from hookline.config import Settings, sqlite_path
from hookline.errors import HooklineError, Misconfigured, Unavailable
from hookline.models import ALL_SCOPES, TEST_KEY_SCOPES, Environment
from hookline.store import SchemaState, Store

log = structlog.get_logger("hookline")

DEFAULT_ACCOUNT = "default"


class StartupFailed(HooklineError):
    """hookline cannot start as configured; the message says why and what to change."""


def check_database_file(url: str, *, create: bool) -> None:
    """Refuse a SQLite file that is not there (unless this command creates it) or cannot
    be created, before SQLite makes an empty one or fails with "unable to open"."""
    name = sqlite_path(url)
    if name is None:
        return
    path = Path(name).absolute()
    point = "point at one with --database-url, HOOKLINE_DATABASE_URL or database_url in --config"
    if path.is_dir():
        raise StartupFailed(f"the database {path} is a directory; {point}")
    if path.exists():
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            raise StartupFailed(
                f"cannot write the database {path} (SQLite also writes {path.name}-wal and "
                f"-shm in {path.parent}); make both writable or {point}"
            )
        return
    if not create:
        raise StartupFailed(
            f"no database at {path}; {point} (`hookline migrate` or `hookline serve` creates one)"
        )
    if not path.parent.is_dir():
        raise StartupFailed(
            f"cannot create the database {path}: directory {path.parent} does not exist; "
            f"create it or {point}"
        )
    if not os.access(path.parent, os.W_OK):
        raise StartupFailed(
            f"cannot create the database {path}: directory {path.parent} is not writable; {point}"
        )


async def retry_database(step: Callable[[], Awaitable[None]], wait_s: float) -> None:
    """Run a start-up step, retrying while the database is unreachable (with backoff,
    0.5 s doubling up to 10 s, for up to `wait_s`): it may be starting, restarting or
    shutting down. A database that will not work as configured (`Misconfigured`)
    fails at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    backoff = Backoff(base_s=0.25, max_s=10.0)
    while True:
        try:
            await step()
            return
        except Misconfigured:
            raise  # retrying cannot help
        except Unavailable as exc:
            delay = backoff.next_delay()
            if loop.time() + delay > deadline:
                if wait_s > 0:
                    exc.reason = f"{exc.reason} (still after database.startup_wait_s={wait_s:g})"
                raise
            log.warning("database_unavailable", reason=exc.reason, retry_in_s=delay)
            await asyncio.sleep(delay)


async def prepare_database(store: Store, *, bootstrap: bool, api_url: str) -> None:
    """Reach the database and check its schema; with `bootstrap`, create the schema of an
    empty database and the first account."""
    await store.ping()
    await prepare_schema(store, create=bootstrap)
    if bootstrap:
        await bootstrap_account(store, api_url=api_url)


def api_url(settings: Settings) -> str:
    """The API's base URL as a client on this host reaches it (0.0.0.0 through 127.0.0.1)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
        settings.server.host, settings.server.host
    )
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{settings.server.port}/v1"


async def prepare_schema(store: Store, *, create: bool) -> None:
    state = await store.schema_state()
    if state is SchemaState.EMPTY and not create:
        raise StartupFailed("the database has no schema; run `hookline migrate` first")
    if state is SchemaState.EMPTY:
        log.info("schema_creating", database=store.dialect)
        await store.migrate()
    elif state is SchemaState.BEHIND:
        raise StartupFailed(
            "the database schema is older than this hookline; run `hookline migrate` first"
        )
    elif state is SchemaState.AHEAD:
        raise StartupFailed("the database schema is newer than this hookline; upgrade hookline")


async def bootstrap_account(store: Store, *, api_url: str) -> None:
    """On the very first start, make an account and show its keys once."""
    if await store.accounts.any_exists():
        log.info(
            "api_keys",
            hint="list them with `hookline keys list`; add one with "
            "`hookline keys create --account NAME`",
        )
        return
    live = await store.accounts.create_key(
        account=DEFAULT_ACCOUNT, environment=Environment.LIVE, scopes=ALL_SCOPES
    )
    test = await store.accounts.create_key(
        account=DEFAULT_ACCOUNT, environment=Environment.TEST, scopes=TEST_KEY_SCOPES
    )
    log.info("account_created", account=DEFAULT_ACCOUNT)
    click.echo(
        "\nCreated account 'default'. These keys are shown once; store them now.\n"
        f"  live key: {live}\n"
        f"  test key: {test}   (tasks complete at once with sample responses)\n"
        "Use one as the HTTP Basic username, e.g.\n"
        f"  ScaleClient('{live}', api_instance_url='{api_url}')\n"
        "More keys: hookline keys create --account NAME\n"
    )
