"""LISTEN/NOTIFY on PostgreSQL: a wake-up hint on a dedicated connection; a no-op elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from hookline.store.dialect import WORK_CHANNEL

log = structlog.get_logger("hookline.store")


@asynccontextmanager
async def listen_for_work(
    engine: AsyncEngine, on_notify: Callable[[], None], *, enabled: bool = True
) -> AsyncIterator[None]:
    """Call `on_notify` when another process announces work, while the block runs.

    Best effort: if the connection cannot be had (or PgBouncer in transaction
    mode drops LISTEN), the dispatcher's polling still finds the work.
    """
    if engine.dialect.name != "postgresql" or not enabled:
        yield
        return
    try:
        conn = await engine.connect()
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection

        def listener(*_: Any) -> None:
            on_notify()

        await driver.add_listener(WORK_CHANNEL, listener)
    except Exception:
        log.warning("listen_unavailable", channel=WORK_CHANNEL, exc_info=True)
        yield
        return
    try:
        yield
    finally:
        try:
            await driver.remove_listener(WORK_CHANNEL, listener)
        except Exception:
            log.debug("unlisten_failed", exc_info=True)
        await conn.close()
