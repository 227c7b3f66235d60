"""Counts for operators: how much work waits, read through the partial indexes."""

from __future__ import annotations

import sqlalchemy as sa

from hookline.models import DeliveryStatus, TaskStatus
from hookline.store.base import Database
from hookline.store.tables import deliveries, tasks


class StatsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def queue_depth(self) -> dict[str, int]:
        """Pending tasks (leased or not) and deliveries not yet delivered, over every account.

        Each count reads a partial index only (`ix_tasks_claimable`: pending tasks;
        `ix_deliveries_due` and `ix_deliveries_leased`: pending and delivering ones).
        """

        def count(table: sa.Table, status: str) -> sa.ScalarSelect[int]:
            # One status per count, so each matches its partial index's predicate exactly.
            return (
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.status == status)
                .scalar_subquery()
            )

        query = sa.select(
            count(tasks, TaskStatus.PENDING.value),
            count(deliveries, DeliveryStatus.PENDING.value),
            count(deliveries, DeliveryStatus.DELIVERING.value),
        )
        async with self._db.read() as conn:
            pending_tasks, pending, delivering = (await conn.execute(query)).one()
        return {"tasks": int(pending_tasks), "deliveries": int(pending) + int(delivering)}
