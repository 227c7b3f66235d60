"""The `hookline` command: serve, migrate, keys, config."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
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
from hookline.config import Settings, checked, load_settings, masked, sqlite_path
from hookline.errors import HooklineError, Misconfigured, Unavailable
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
    except Misconfigured as exc:
        raise click.ClickException(exc.reason) from exc
    except Unavailable as exc:
        raise click.ClickException(
            f"cannot reach the database: {exc.reason}; check database_url "
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
        return checked(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def common(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--database-url",
        envvar="HOOKLINE_DATABASE_URL",
        help="sqlite:///PATH (default hookline.db) or postgresql://USER@HOST/DB.",
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


DEV_NETWORKS = ("127.0.0.0/8", "::1/128")


@main.command(short_help="Run the API, the dispatcher and the callback sender in one process.")
@common
@_server_options
@click.option(
    "--dev",
    is_flag=True,
    help="Local development: callbacks may reach loopback (adds 127.0.0.0/8 and ::1/128 "
    "to callbacks.allow_networks). Never in production.",
)
def serve(
    config: str | None,
    database_url: str | None,
    host: str | None,
    port: int | None,
    log_level: str,
    dev: bool,
) -> None:
    """Run everything in one process: the API and the dispatcher (SQLite by default).

    Creates the schema on an empty database and an account with keys on first start.
    """
    configure_logging(log_level)
    server = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = _settings(config, database_url, server=server)
    if dev:
        allow = tuple(dict.fromkeys((*settings.callbacks.allow_networks, *DEV_NETWORKS)))
        callbacks = dataclasses.replace(settings.callbacks, allow_networks=allow)
        settings = dataclasses.replace(settings, callbacks=callbacks)
        log.warning(
            "dev_mode_loopback_callbacks_allowed",
            allow_networks=list(allow),
            note="--dev lets callbacks reach this machine; never use it in production",
        )
    _run(_run_roles(settings, api=True, dispatch=True, bootstrap=True))


@main.command(short_help="Run the API alone (any number behind a load balancer).")
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


@main.command(short_help="Run the dispatcher and the callback sender alone.")
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
        sock = None
        if api or health:
            # Bound before anything starts, so that a taken port ends start-up at once;
            # it listens (accepts connections) only once the rest is ready.
            sock = _bind_socket(settings, option="--port" if api else "--health-port")
            stack.callback(sock.close)
        _check_database_file(settings.database_url, create=bootstrap)
        store = open_store(
            settings.database_url,
            settings.database,
            first_callback_delay_s=settings.callbacks.schedule_s[0],
        )
        stack.push_async_callback(store.close)
        await _retry_database(
            lambda: _prepare_database(store, bootstrap=bootstrap, api_url=_api_url(settings)),
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
        if sock is not None:
            _listen(sock, settings, option="--port" if api else "--health-port")
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
        if sock is not None:
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
                proxy_headers=False,  # create_app believes only rate_limits.trusted_proxies
                timeout_graceful_shutdown=max(1, int(settings.dispatcher.drain_s)),
            )
            server = Server(
                config,
                header_timeout_s=settings.server.header_timeout_s,
                body_timeout_s=settings.server.body_timeout_s,
            )
            server.on_exit = stop.set
            await server.serve(sockets=[sock])
            stop.set()
        else:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        await asyncio.gather(*running)
        log.info("hookline_stopped")


def _bind_socket(settings: Settings, *, option: str) -> socket.socket:
    """The server's socket, bound (with SO_REUSEPORT if asked: several processes then
    share the port and the kernel spreads connections), not yet listening."""
    host, port = settings.server.host, settings.server.port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if settings.server.reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(_listen_failure(host, port, exc, option)) from exc
    return sock


def _listen(sock: socket.socket, settings: Settings, *, option: str) -> None:
    """Start accepting connections and say where (another process that bound the same
    port meanwhile makes this fail, as a taken port does)."""
    host, port = settings.server.host, settings.server.port
    try:
        sock.listen(2048)
    except OSError as exc:
        raise click.ClickException(_listen_failure(host, port, exc, option)) from exc
    bound_port = sock.getsockname()[1]
    base = f"http://[{host}]:{bound_port}" if ":" in host else f"http://{host}:{bound_port}"
    if option == "--port":
        log.info("api_listening", url=f"{base}/v1")
    else:
        log.info("health_listening", url=f"{base}/healthz")


def _listen_failure(host: str, port: int, exc: OSError, option: str) -> str:
    where = f"cannot listen on {host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where}: another process listens there; stop it or choose another {option}"
    if exc.errno == errno.EACCES:
        return f"{where}: permission denied (ports below 1024 need privileges); choose another {option}"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"{where}: {host} is not an address of this machine; choose another --host"
    return f"{where}: {exc.strerror or exc}; choose another --host or {option}"


def _check_database_file(url: str, *, create: bool) -> None:
    """Refuse a SQLite file that is not there (unless this command creates it) or cannot
    be created, before SQLite makes an empty one or fails with "unable to open"."""
    name = sqlite_path(url)
    if name is None:
        return
    path = Path(name).absolute()
    point = "point at one with --database-url, HOOKLINE_DATABASE_URL or database_url in --config"
    if path.is_dir():
        raise click.ClickException(f"the database {path} is a directory; {point}")
    if path.exists():
        if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            raise click.ClickException(
                f"cannot write the database {path} (SQLite also writes {path.name}-wal and "
                f"-shm in {path.parent}); make both writable or {point}"
            )
        return
    if not create:
        raise click.ClickException(
            f"no database at {path}; {point} (`hookline migrate` or `hookline serve` creates one)"
        )
    if not path.parent.is_dir():
        raise click.ClickException(
            f"cannot create the database {path}: directory {path.parent} does not exist; "
            f"create it or {point}"
        )
    if not os.access(path.parent, os.W_OK):
        raise click.ClickException(
            f"cannot create the database {path}: directory {path.parent} is not writable; {point}"
        )


async def _retry_database(step: Callable[[], Awaitable[None]], wait_s: float) -> None:
    """Run a start-up step, retrying while the database is unreachable (with backoff,
    for up to `wait_s`): it may be starting, restarting or shutting down. A database
    that will not work as configured (`Misconfigured`) fails at once."""
    deadline = asyncio.get_running_loop().time() + wait_s
    delay = 0.5
    while True:
        try:
            await step()
            return
        except Misconfigured:
            raise  # retrying cannot help
        except Unavailable as exc:
            if asyncio.get_running_loop().time() + delay > deadline:
                if wait_s > 0:
                    exc.reason = f"{exc.reason} (still after database.startup_wait_s={wait_s:g})"
                raise
            log.warning("database_unavailable", reason=exc.reason, retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def _prepare_database(store: Store, *, bootstrap: bool, api_url: str) -> None:
    await store.ping()
    await _prepare_schema(store, create=bootstrap)
    if bootstrap:
        await _bootstrap_account(store, api_url=api_url)


def _api_url(settings: Settings) -> str:
    """The API's base URL as a client on this host reaches it (0.0.0.0 through 127.0.0.1)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
        settings.server.host, settings.server.host
    )
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{settings.server.port}/v1"


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


async def _bootstrap_account(store: Store, *, api_url: str) -> None:
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


@main.command()
@common
def migrate(config: str | None, database_url: str | None) -> None:
    """Create or upgrade the database schema to this release's version."""
    configure_logging()
    settings = _settings(config, database_url)

    async def run() -> SchemaState:
        _check_database_file(settings.database_url, create=True)
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
        _check_database_file(settings.database_url, create=False)
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


@keys.command("create", short_help="Create an API key; it is printed once, on the last line.")
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
    line = "{:<12}  {:<20} {:<4}  {:<7}  {:<24} {}"
    if found and not as_json:
        click.echo(line.format("ID", "ACCOUNT", "ENV", "STATE", "SCOPES", "OWNER"))
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
                line.format(
                    key.id, key.account_name, key.environment.value, state, row["scopes"], key.owner
                )
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


@account.command("show", short_help="Print an account's callback credentials (both environments).")
@common
@click.argument("name")
def account_show(config: str | None, database_url: str | None, name: str) -> None:
    """Print NAME's callback auth keys and webhook secrets, per environment, as JSON."""
    settings = _settings(config, database_url)
    found = _with_store(settings, lambda store: store.accounts.all_credentials(name))
    click.echo(json.dumps(account_credentials_json(found), indent=2))


@main.command(short_help="Print callbacks as they arrive and verify their signatures.")
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
        settings = _settings(config, database_url)
        try:
            environment = Environment.TEST if test_environment else Environment.LIVE
            creds = _with_store(
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

    async def run() -> None:
        try:
            await serve_receiver(app, host=host, port=port, ready=ready)
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
            ) from exc

    _run(run())


@main.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("show", short_help="Print the effective configuration, secrets masked.")
@common
def config_show(config: str | None, database_url: str | None) -> None:
    """Print the effective configuration (file + HOOKLINE_* + flags), secrets masked."""
    settings = _settings(config, database_url)
    click.echo(json.dumps(masked(settings), indent=2, default=str))


# The HTTP client commands (hookline/client/): submit, tasks, events, deliveries, stats.
from hookline.client.commands import COMMANDS  # noqa: E402

for _command in COMMANDS:
    main.add_command(_command)
# `deliveries` widens the name column of `hookline --help`: say migrate's help in fewer words
# than click's cut-off (move this into migrate's decorator as short_help=... when convenient).
main.commands["migrate"].short_help = "Create or upgrade the database schema."
