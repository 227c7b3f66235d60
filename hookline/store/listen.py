"""LISTEN/NOTIFY on PostgreSQL: wake-up hints on a dedicated connection; a no-op elsewhere.

The connection is kept: when it dies (a database restart, a proxy timeout) it is
opened again with backoff, and every channel's wake-up is called once it is back,
since notifications sent meanwhile were lost. Until then the loops poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hookline.aio import Backoff

log = structlog.get_logger("hookline.store")

KEEPALIVE_S = 30.0
"""How often an idle LISTEN connection is checked."""
KEEPALIVE_TIMEOUT_S = 10.0


FIRST_LISTEN_WAIT_S = 5.0


@asynccontextmanager
async def listen(
    engine: AsyncEngine, channels: Mapping[str, Callable[[], None]], *, enabled: bool = True
) -> AsyncIterator[None]:
    """While the block runs, call `channels[name]` when another process notifies `name`.

    Best effort: if the connection cannot be had (or PgBouncer in transaction
    mode drops LISTEN), the loops' polling still finds the work.
    """
    if engine.dialect.name != "postgresql" or not enabled:
        yield
        return
    listening = asyncio.Event()
    keeper = asyncio.create_task(_keep_listening(engine, channels, listening), name="listen")
    # Wait (briefly) for the first LISTEN, so that what is announced right after start-up
    # is heard; past the wait the loops' first claims and polling find it anyway.
    with suppress(TimeoutError):
        async with asyncio.timeout(FIRST_LISTEN_WAIT_S):
            await listening.wait()
    try:
        yield
    finally:
        keeper.cancel()
        with suppress(asyncio.CancelledError):
            await keeper


async def _keep_listening(
    engine: AsyncEngine, channels: Mapping[str, Callable[[], None]], listening: asyncio.Event
) -> None:
    backoff = Backoff()
    first = True
    while True:
        lost = asyncio.Event()
        conn: AsyncConnection | None = None
        try:
            conn = await engine.connect()
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            driver.add_termination_listener(lambda *_, lost=lost: lost.set())
            for name, wake in channels.items():
                await driver.add_listener(name, lambda *_, wake=wake: wake())
        except Exception:
            delay = backoff.next_delay()
            log.warning(
                "listen_unavailable", channels=sorted(channels), retry_in_s=delay, exc_info=True
            )
            await _close(conn)
            await asyncio.sleep(delay)
            continue
        backoff.reset()
        listening.set()
        if not first:
            log.info("listen_restored", channels=sorted(channels))
            for wake in channels.values():
                wake()  # whatever was announced while the connection was down
        first = False
        try:
            await _until_lost(driver, lost)
            log.warning("listen_lost", channels=sorted(channels))
        finally:
            await _close(conn)


async def _until_lost(driver: Any, lost: asyncio.Event) -> None:
    """Return when the connection closes, or stops answering (a silently dropped
    connection, e.g. by a NAT or firewall, never reports its end)."""
    while True:
        try:
            async with asyncio.timeout(KEEPALIVE_S):
                await lost.wait()
            return
        except TimeoutError:
            pass
        try:
            async with asyncio.timeout(KEEPALIVE_TIMEOUT_S):
                await driver.execute("SELECT 1")
        except Exception:
            log.debug("listen_keepalive_failed", exc_info=True)
            return


async def _close(conn: AsyncConnection | None) -> None:
    """Discard the connection: it carries LISTEN registrations no one else should get."""
    if conn is None:
        return
    try:
        await conn.invalidate()
        await conn.close()
    except Exception:
        log.debug("listen_close_failed", exc_info=True)
