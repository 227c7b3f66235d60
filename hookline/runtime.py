"""The long-running roles: `serve` (everything in one process), `api` and `worker`.

Each role owns its long-lived resources in one `AsyncExitStack` and closes
them in reverse order: the socket, the store, the HTTP sessions. The socket
is bound before anything starts, so that a taken port ends start-up at once,
and listens only once the rest is ready. The CLI (`hookline.cli`) parses
flags into `Settings` and calls one of these.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import signal
import socket
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack

import aiohttp
import structlog
import uvicorn
from starlette.types import ASGIApp

import hookline
from hookline.config import Settings, masked
from hookline.handlers import HandlerSpec
from hookline.ingress.metrics import app_metrics
from hookline.metrics import Metrics
from hookline.server import Server
from hookline.startup import (
    StartupFailed,
    api_url,
    check_database_file,
    prepare_database,
    retry_database,
)
from hookline.store import Store, open_store

log = structlog.get_logger("hookline")


async def serve(settings: Settings) -> None:
    """The API, the dispatcher and the callback sender in one process; an empty database
    gets the schema and a first account."""
    from hookline.ingress import create_app

    async with AsyncExitStack() as stack:
        sock = _bind(stack, settings, option="--port")
        store, handlers = await _open(stack, settings, bootstrap=True)
        metrics = app_metrics(store, settings)  # one per process, shared by its roles
        _starting(settings, ("api", "dispatcher", "callbacks"), handlers)
        _listen(sock, settings, option="--port")
        stop = asyncio.Event()
        running = await _background(
            stack,
            store,
            settings,
            handlers,
            stop,
            metrics,
            makes_all_work=store.db.engines.dialect == "sqlite",
        )
        app = create_app(store=store, settings=settings, metrics=metrics)
        await _serve_http(app, sock, settings, stop)
        await asyncio.gather(*running)
        log.info("hookline_stopped")


async def api(settings: Settings) -> None:
    """The API alone (any number behind a load balancer, one PostgreSQL)."""
    from hookline.ingress import create_app

    async with AsyncExitStack() as stack:
        sock = _bind(stack, settings, option="--port")
        store, _ = await _open(stack, settings, bootstrap=False)
        metrics = app_metrics(store, settings)
        _starting(settings, ("api",), None)
        _listen(sock, settings, option="--port")
        app = create_app(store=store, settings=settings, metrics=metrics)
        await _serve_http(app, sock, settings, stop=None)
        log.info("hookline_stopped")


async def worker(settings: Settings, *, health: bool) -> None:
    """The dispatcher and the callback sender alone; with `health`, /healthz and /readyz
    on server.host:server.port for an orchestrator's probes."""
    from hookline.ingress import create_health_app

    async with AsyncExitStack() as stack:
        sock = _bind(stack, settings, option="--health-port") if health else None
        store, handlers = await _open(stack, settings, bootstrap=False)
        metrics = app_metrics(store, settings)
        _starting(settings, ("dispatcher", "callbacks"), handlers)
        stop = asyncio.Event()
        if sock is not None:
            _listen(sock, settings, option="--health-port")
        running = await _background(stack, store, settings, handlers, stop, metrics)
        if sock is not None:
            app = create_health_app(store=store, settings=settings, metrics=metrics)
            await _serve_http(app, sock, settings, stop)
        else:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        await asyncio.gather(*running)
        log.info("hookline_stopped")


def _bind(stack: AsyncExitStack, settings: Settings, *, option: str) -> socket.socket:
    sock = bind_socket(settings, option=option)
    stack.callback(sock.close)
    return sock


async def _open(
    stack: AsyncExitStack, settings: Settings, *, bootstrap: bool
) -> tuple[Store, Mapping[str, HandlerSpec]]:
    """The store, ready (retried while the database is unreachable), and the handlers."""
    from hookline.handlers.registry import build_handlers

    check_database_file(settings.database_url, create=bootstrap)
    store = open_store(
        settings.database_url,
        settings.database,
        first_callback_delay_s=settings.callbacks.schedule_s[0],
    )
    stack.push_async_callback(store.close)
    await retry_database(
        lambda: prepare_database(store, bootstrap=bootstrap, api_url=api_url(settings)),
        settings.database.startup_wait_s,
    )
    session = await stack.enter_async_context(aiohttp.ClientSession())
    try:
        return store, build_handlers(settings.handlers, session)
    except ValueError as exc:
        raise StartupFailed(str(exc)) from exc


def _starting(
    settings: Settings, roles: Sequence[str], handlers: Mapping[str, HandlerSpec] | None
) -> None:
    log.info(
        "hookline_starting",
        version=hookline.__version__,
        roles=list(roles),
        database=masked(settings)["database_url"],
        handlers={t: h.description for t, h in sorted(handlers.items())}
        if handlers is not None
        else None,
        other_types="manual: claimed by workers through POST /v1/work/claim",
    )


async def _background(
    stack: AsyncExitStack,
    store: Store,
    settings: Settings,
    handlers: Mapping[str, HandlerSpec],
    stop: asyncio.Event,
    metrics: Metrics,
    *,
    makes_all_work: bool = False,
) -> list[asyncio.Task[None]]:
    """Start the callback sender, the retention pruner and the dispatcher; they end on `stop`.

    `makes_all_work`: no other process makes tasks or callbacks (`serve` on SQLite), so,
    like PostgreSQL's NOTIFY, this process's own signals announce all new work and idle
    polls may back off (`idle_poll_s`); otherwise they stay `poll_s` apart.
    """
    from hookline.callbacks import CallbackSender, callback_session
    from hookline.dispatch import Dispatcher, worker_name
    from hookline.retention import prune_forever

    # Other processes announce new tasks and callbacks with NOTIFY (PostgreSQL);
    # this one picks up what it makes itself without telling them.
    await stack.enter_async_context(store.listen())
    store.signals.dispatching = store.signals.sending = True
    engines = store.db.engines
    announced = idle_polls_may_back_off(
        engines.dialect, listen=engines.listen, makes_all_work=makes_all_work
    )
    callback_http = await stack.enter_async_context(callback_session(settings.callbacks))
    callbacks = settings.callbacks
    if not announced:
        callbacks = dataclasses.replace(callbacks, idle_poll_s=callbacks.poll_s)
    sender = CallbackSender(store, callback_http, callbacks, worker=worker_name(), metrics=metrics)
    # Deliveries this process creates go to its sender from their own transaction.
    store.signals.handoff = sender
    d = settings.dispatcher
    dispatcher = Dispatcher(
        store,
        handlers,
        worker=worker_name(),
        concurrency=d.concurrency,
        lease_s=d.lease_s,
        claim_size=d.claim_size,
        poll_s=d.poll_s,
        idle_poll_s=d.idle_poll_s if announced else d.poll_s,
        claim_interval_s=d.claim_interval_s,
        drain_s=d.drain_s,
        metrics=metrics,
    )
    store.signals.inline = dispatcher.inline()
    return [
        asyncio.create_task(sender.run(stop)),
        asyncio.create_task(prune_forever(store, settings.retention, stop)),
        asyncio.create_task(dispatcher.run(stop)),
    ]


def idle_polls_may_back_off(dialect: str, *, listen: bool, makes_all_work: bool) -> bool:
    """Whether a process hears of all new work without polling, so that its idle polls
    may back off to `idle_poll_s`: on PostgreSQL with LISTEN (others NOTIFY), or when no
    other process makes work (`serve` on SQLite). Behind PgBouncer in transaction mode,
    or for `worker` on SQLite, polling is how it learns of others' work at all."""
    return makes_all_work or (dialect == "postgresql" and listen)


async def _serve_http(
    app: ASGIApp, sock: socket.socket, settings: Settings, stop: asyncio.Event | None
) -> None:
    """Serve `app` on the listening `sock` until SIGINT/SIGTERM; then set `stop`."""
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
    if stop is not None:
        server.on_exit = stop.set
    await server.serve(sockets=[sock])
    if stop is not None:
        stop.set()


def bind_socket(settings: Settings, *, option: str) -> socket.socket:
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
        raise StartupFailed(_listen_failure(host, port, exc, option)) from exc
    return sock


def _listen(sock: socket.socket, settings: Settings, *, option: str) -> None:
    """Start accepting connections and say where (another process that bound the same
    port meanwhile makes this fail, as a taken port does)."""
    host, port = settings.server.host, settings.server.port
    try:
        sock.listen(2048)
    except OSError as exc:
        raise StartupFailed(_listen_failure(host, port, exc, option)) from exc
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
