"""The `hookline` command: serve, migrate, keys, config."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import click
import structlog
import uvicorn

import hookline
from hookline.config import Settings, load_settings, masked
from hookline.errors import HooklineError, Unavailable
from hookline.logging import configure_logging
from hookline.models import ALL_SCOPES, TEST_KEY_SCOPES, Environment, Scope
from hookline.serialize import account_credentials_json
from hookline.server import Server
from hookline.store import SchemaState, Store, open_store

log = structlog.get_logger("hookline")
T = TypeVar("T")

DEFAULT_ACCOUNT = "default"


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (uvicorn[standard] brings it on Linux and macOS):
    the same asyncio API with cheaper sockets and scheduling; asyncio's loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(coro)
    except Unavailable as exc:
        raise click.ClickException(
            f"cannot reach the database ({exc.__cause__!r}); check database_url "
            "(--database-url, HOOKLINE_DATABASE_URL) and that the server is up"
        ) from exc
    except HooklineError as exc:
        raise click.ClickException(exc.message) from exc


def _settings(config: str | None, database_url: str | None, **overrides: Any) -> Settings:
    path = Path(config) if config else Path(os.environ.get("HOOKLINE_CONFIG", "hookline.toml"))
    explicit = config is not None or "HOOKLINE_CONFIG" in os.environ
    text = None
    if path.is_file():
        text = path.read_text()
    elif explicit:
        raise click.BadParameter(f"config file {path} does not exist", param_hint="--config")
    try:
        settings = load_settings(
            file_text=text,
            file_name=str(path),
            environ=os.environ,
            read_text=lambda p: (path.parent / p).read_text(),
        )
        if database_url:
            settings = dataclasses.replace(settings, database_url=database_url)
        for section, values in overrides.items():
            if values:
                current = getattr(settings, section)
                settings = dataclasses.replace(
                    settings, **{section: dataclasses.replace(current, **values)}
                )
        return settings
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def common(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--database-url",
        envvar="HOOKLINE_DATABASE_URL",
        help="sqlite+aiosqlite:///PATH (default hookline.db) or postgresql+asyncpg://USER@HOST/DB.",
    )(f)
    return click.option(
        "--config",
        type=click.Path(dir_okay=False),
        help="TOML settings file [env HOOKLINE_CONFIG; default ./hookline.toml if present].",
    )(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hookline.__version__, prog_name="hookline")
def main() -> None:
    """hookline: a task pipeline with guaranteed callbacks and a Scale-compatible API.

    Start with `hookline serve`: it creates ./hookline.db, migrates it, prints
    an API key on first start, and listens on http://127.0.0.1:8000/v1.
    """


def _server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default="info",
        show_default=True,
        help="debug logs every request.",
    )(f)
    f = click.option(
        "--port", type=int, help="Port to listen on [default 8000; HOOKLINE_SERVER_PORT]."
    )(f)
    return click.option(
        "--host", help="Interface to listen on [default 127.0.0.1; HOOKLINE_SERVER_HOST]."
    )(f)


@main.command()
@common
@_server_options
def serve(
    config: str | None, database_url: str | None, host: str | None, port: int | None, log_level: str
) -> None:
    """Run everything in one process: the API and the dispatcher (SQLite by default).

    Creates the schema on an empty database and an account with keys on first start.
    """
    configure_logging(log_level)
    server = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = _settings(config, database_url, server=server)
    _run(_run_roles(settings, api=True, dispatch=True, bootstrap=True))


@main.command()
@common
@_server_options
def api(
    config: str | None, database_url: str | None, host: str | None, port: int | None, log_level: str
) -> None:
    """Run the API alone (scale out: any number behind a load balancer, one PostgreSQL)."""
    configure_logging(log_level)
    server = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = _settings(config, database_url, server=server)
    _run(_run_roles(settings, api=True, dispatch=False, bootstrap=False))


@main.command()
@common
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option(
    "--health-port",
    type=int,
    envvar="HOOKLINE_WORKER_HEALTH_PORT",
    help="Serve /healthz and /readyz on this port (on --host) for an orchestrator's probes.",
)
@click.option("--host", help="Interface for --health-port [default 127.0.0.1].")
def worker(
    config: str | None,
    database_url: str | None,
    log_level: str,
    health_port: int | None,
    host: str | None,
) -> None:
    """Run the dispatcher and the callback sender alone (any number of processes)."""
    configure_logging(log_level)
    server = {k: v for k, v in {"host": host, "port": health_port}.items() if v is not None}
    settings = _settings(config, database_url, server=server)
    _run(
        _run_roles(
            settings, api=False, dispatch=True, bootstrap=False, health=health_port is not None
        )
    )


async def _run_roles(
    settings: Settings, *, api: bool, dispatch: bool, bootstrap: bool, health: bool = False
) -> None:
    """Own every long-lived resource here, and close them in reverse order."""
    from hookline.callbacks import CallbackSender, callback_session
    from hookline.dispatch import Dispatcher, worker_id
    from hookline.handlers.registry import build_handlers
    from hookline.ingress import create_app, create_health_app
    from hookline.retention import prune_forever

    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        store = open_store(
            settings.database_url,
            settings.database,
            first_callback_delay_s=settings.callbacks.schedule_s[0],
        )
        stack.push_async_callback(store.close)
        await _retry_database(
            lambda: _prepare_database(store, bootstrap=bootstrap),
            settings.database.startup_wait_s,
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        try:
            handlers = build_handlers(settings.handlers, session)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        log.info(
            "hookline_starting",
            version=hookline.__version__,
            roles=[
                r
                for r, on in (("api", api), ("dispatcher", dispatch), ("callbacks", dispatch))
                if on
            ],
            database=masked(settings)["database_url"],
            handlers={t: h.description for t, h in sorted(handlers.items())} if dispatch else None,
            other_types="manual: claimed by workers through POST /v1/work/claim",
        )
        running: list[asyncio.Task[None]] = []
        if dispatch:
            # Other processes announce new tasks and callbacks with NOTIFY (PostgreSQL);
            # this one picks up what it makes itself without telling them.
            await stack.enter_async_context(store.listen())
            store.signals.dispatching = store.signals.sending = True
            callback_http = await stack.enter_async_context(callback_session(settings.callbacks))
            sender = CallbackSender(store, callback_http, settings.callbacks, owner=worker_id())
            running.append(asyncio.create_task(sender.run(stop)))
            running.append(asyncio.create_task(prune_forever(store, settings.retention, stop)))
            dispatcher = Dispatcher(
                store,
                handlers,
                owner=worker_id(),
                concurrency=settings.dispatcher.concurrency,
                lease_s=settings.dispatcher.lease_s,
                batch_size=settings.dispatcher.batch_size,
                poll_s=settings.dispatcher.poll_s,
                claim_interval_s=settings.dispatcher.claim_interval_s,
                drain_s=settings.dispatcher.drain_s,
            )
            running.append(asyncio.create_task(dispatcher.run(stop)))
        if api or health:
            factory = create_app if api else create_health_app
            app = factory(store=store, settings=settings)
            config = uvicorn.Config(
                app,
                host=settings.server.host,
                port=settings.server.port,
                log_config=None,
                access_log=False,
                lifespan="off",
                server_header=False,
                timeout_graceful_shutdown=max(1, int(settings.dispatcher.drain_s)),
            )
            server = Server(config)
            server.on_exit = stop.set
            sockets = None
            if settings.server.reuse_port:
                sockets = [_reuse_port_socket(settings.server.host, settings.server.port)]
            where = f"http://{settings.server.host}:{settings.server.port}"
            log.info("api_listening" if api else "health_listening", url=where)
            await server.serve(sockets=sockets)
            stop.set()
        else:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        await asyncio.gather(*running)
        log.info("hookline_stopped")


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes may bind too; the kernel spreads connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


async def _retry_database(step: Callable[[], Awaitable[None]], wait_s: float) -> None:
    """Run a start-up step, retrying while the database is unreachable (with backoff,
    for up to `wait_s`): it may be starting, restarting or shutting down."""
    deadline = asyncio.get_running_loop().time() + wait_s
    delay = 0.5
    while True:
        try:
            await step()
            return
        except Unavailable:
            if asyncio.get_running_loop().time() + delay > deadline:
                raise
            log.warning("database_unavailable", retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def _prepare_database(store: Store, *, bootstrap: bool) -> None:
    await store.ping()
    await _prepare_schema(store, create=bootstrap)
    if bootstrap:
        await _bootstrap_account(store)


async def _prepare_schema(store: Store, *, create: bool) -> None:
    state = await store.schema_state()
    if state is SchemaState.EMPTY and not create:
        raise click.ClickException("the database has no schema; run `hookline migrate` first")
    if state is SchemaState.EMPTY:
        log.info("schema_creating", database=store.dialect)
        await store.migrate()
    elif state is SchemaState.BEHIND:
        raise click.ClickException(
            "the database schema is older than this hookline; run `hookline migrate` first"
        )
    elif state is SchemaState.AHEAD:
        raise click.ClickException(
            "the database schema is newer than this hookline; upgrade hookline"
        )


async def _bootstrap_account(store: Store) -> None:
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
        account=DEFAULT_ACCOUNT, environment=Environment.TEST, scopes=ALL_SCOPES
    )
    log.info("account_created", account=DEFAULT_ACCOUNT)
    click.echo(
        "\nCreated account 'default'. These keys are shown once; store them now.\n"
        f"  live key: {live}\n"
        f"  test key: {test}   (tasks complete at once with sample responses)\n"
        "Use one as the HTTP Basic username, e.g.\n"
        f"  ScaleClient('{live}', api_instance_url='http://HOST:PORT/v1')\n"
        "More keys: hookline keys create --account NAME\n"
    )


@main.command()
@common
def migrate(config: str | None, database_url: str | None) -> None:
    """Create or upgrade the database schema to this release's version."""
    configure_logging()
    settings = _settings(config, database_url)

    async def run() -> SchemaState:
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

    before = _run(run())
    click.echo(f"schema was {before.value}; now current ({masked(settings)['database_url']})")


@main.group()
def keys() -> None:
    """Create, list and revoke API keys."""


def _with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = open_store(settings.database_url, settings.database)
        try:
            if await store.schema_state() is not SchemaState.CURRENT:
                raise click.ClickException(
                    "the database has no current schema; run `hookline migrate` first"
                )
            return await work(store)
        finally:
            await store.close()

    return _run(run())


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


@keys.command("create")
@common
@click.option("--account", required=True, help="Account name; created if new.")
@click.option("--test", is_flag=True, help="A test_ key (tasks complete at once) instead of live_.")
@click.option(
    "--scopes",
    help="Comma list of submit,work,audit,admin [default: all; test keys: submit,work,audit].",
)
@click.option("--owner", help="Member email shown by GET /v1/teams [default NAME@hookline.local].")
def keys_create(
    config: str | None,
    database_url: str | None,
    account: str,
    test: bool,
    scopes: str | None,
    owner: str | None,
) -> None:
    """Create an API key; the key is printed alone on the last line, and only once."""
    settings = _settings(config, database_url)
    environment = Environment.TEST if test else Environment.LIVE
    scope_set = _parse_scopes(scopes, environment)
    key = _with_store(
        settings,
        lambda store: store.accounts.create_key(
            account=account, environment=environment, scopes=scope_set, owner=owner
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
    settings = _settings(config, database_url)
    found = _with_store(settings, lambda store: store.accounts.list_keys(account))
    for key in found:
        row = {
            "id": key.id,
            "account": key.account_name,
            "environment": key.environment.value,
            "scopes": ",".join(sorted(key.scopes)),
            "owner": key.owner,
            "created_at": key.created_at.isoformat(),
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            state = "revoked" if key.revoked_at else "active"
            click.echo(
                f"{key.id}  {key.account_name:<20} {key.environment.value:<4}  {state:<7}  "
                f"{row['scopes']:<24} {key.owner}"
            )
    if not found and not as_json:
        click.echo("no keys", err=True)


@keys.command("revoke")
@common
@click.argument("key_id")
def keys_revoke(config: str | None, database_url: str | None, key_id: str) -> None:
    """Revoke a key by its id (from `keys list`) or the whole key."""
    settings = _settings(config, database_url)
    _with_store(settings, lambda store: store.accounts.revoke_key(key_id))
    click.echo(f"revoked {key_id}")


@main.group()
def account() -> None:
    """Show an account's callback credentials."""


@account.command("show")
@common
@click.argument("name")
def account_show(config: str | None, database_url: str | None, name: str) -> None:
    """Print NAME's callback auth keys and webhook secrets, per environment, as JSON."""
    settings = _settings(config, database_url)
    found = _with_store(settings, lambda store: store.accounts.all_credentials(name))
    click.echo(json.dumps(account_credentials_json(found), indent=2))


@main.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show")
@common
def config_show(config: str | None, database_url: str | None) -> None:
    """Print the effective configuration (file + HOOKLINE_* + flags), secrets masked."""
    settings = _settings(config, database_url)
    click.echo(json.dumps(masked(settings), indent=2, default=str))
