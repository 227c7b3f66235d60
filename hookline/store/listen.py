"""LISTEN/NOTIFY on PostgreSQL: wake-up hints on a dedicated connection; a no-op elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger("hookline.store")


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
    listeners: dict[str, Callable[..., None]] = {
        name: (lambda *_, wake=wake: wake()) for name, wake in channels.items()
    }
    try:
        conn = await engine.connect()
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        for name, listener in listeners.items():
            await driver.add_listener(name, listener)
    except Exception:
        log.warning("listen_unavailable", channels=sorted(channels), exc_info=True)
        yield
        return
    try:
        yield
    finally:
        try:
            for name, listener in listeners.items():
                await driver.remove_listener(name, listener)
        except Exception:
            log.debug("unlisten_failed", exc_info=True)
        await conn.close()
