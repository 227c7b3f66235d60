"""Pruning old delivery attempts, on a schedule, inside worker processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from hookline.aio import first_of
from hookline.config import RetentionSettings
from hookline.store import Store

log = structlog.get_logger("hookline.retention")


async def prune_forever(store: Store, settings: RetentionSettings, stop: asyncio.Event) -> None:
    """Every `interval_s`, delete attempt logs older than `attempts_days` (0 keeps all)."""
    if settings.attempts_days <= 0:
        return
    while not stop.is_set():
        cutoff = store.db.clock() - timedelta(days=settings.attempts_days)
        try:
            pruned = await store.deliveries.prune_attempts(older_than=cutoff)
        except Exception:
            log.exception("prune_failed")
        else:
            if pruned:
                log.info("delivery_attempts_pruned", rows=pruned, older_than=cutoff.isoformat())
        await first_of(stop.wait(), asyncio.sleep(settings.interval_s))
