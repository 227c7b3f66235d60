"""Deliveries as the submitter sees them: a task's deliveries and attempts, resend, replay;
and the retention of attempt logs.

The sender's side (claim, lease sweep, attempt recording) is `store/sending.py`;
enqueueing is `store/outbox.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.models import Delivery, DeliveryAttempt, DeliveryStatus, Principal, TaskStatus
from hookline.store.base import Database
from hookline.store.events import event_row, record
from hookline.store.rows import all_rows, first_row, found, from_row, scoped
from hookline.store.sending import LEASE_SWEEP_S, MAX_BODY_CHARS, AttemptRecord, DeliverySender
from hookline.store.tables import deliveries, delivery_attempts, tasks
from hookline.store.transitions import tasks_finished

__all__ = ["LEASE_SWEEP_S", "MAX_BODY_CHARS", "AttemptRecord", "DeliveryStore", "prune_attempts"]


def _delivery(row: sa.RowMapping, attempts: Sequence[DeliveryAttempt] = ()) -> Delivery:
    return from_row(
        Delivery, row, status=DeliveryStatus(row["status"]), attempt_log=tuple(attempts)
    )


def _attempt(row: sa.RowMapping) -> DeliveryAttempt:
    # An attempt without an answer (no status code) keeps its detail in `body`.
    answered = row["status_code"] is not None
    return from_row(
        DeliveryAttempt,
        row,
        body=row["body"] if answered else None,
        detail=None if answered else row["body"],
    )


def _requeue(*conditions: sa.ColumnElement[bool], now: datetime) -> sa.Update:
    """Deliveries matching `conditions` pending again, due now, with a fresh schedule."""
    return (
        sa.update(deliveries)
        .where(*conditions)
        .values(
            status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now, updated_at=now
        )
    )


class DeliveryStore(DeliverySender):
    """Use cases: a task's deliveries with their attempt logs, resend a task's callback,
    replay an account's deliveries in a status, prune old attempt logs; and, inherited
    from `DeliverySender` (store/sending.py), the sender's claim and record."""

    async def prune_attempts(self, *, older_than: datetime) -> int:
        return await prune_attempts(self._db, older_than=older_than)

    async def for_task(self, principal: Principal, task_id: str) -> list[Delivery]:
        """A task's deliveries, oldest first, each with its attempt log."""
        async with self._db.read() as conn:
            await _task_row(conn, principal, task_id)
            query = (
                sa.select(deliveries)
                .where(deliveries.c.task_id == task_id)
                .order_by(deliveries.c.id)
            )
            rows = await all_rows(conn, query)
            log = await all_rows(
                conn,
                sa.select(delivery_attempts)
                .where(delivery_attempts.c.delivery_id.in_([r["id"] for r in rows]))
                .order_by(delivery_attempts.c.id),
            )
        by_delivery: dict[str, list[DeliveryAttempt]] = {}
        for a in log:
            by_delivery.setdefault(a["delivery_id"], []).append(_attempt(a))
        return [_delivery(r, by_delivery.get(r["id"], ())) for r in rows]

    async def resend(self, principal: Principal, task_id: str) -> list[Delivery]:
        """Send the task's callback again now: its latest delivery is re-queued with a fresh
        schedule, or a new one is made if the finished task never had one."""
        now = self._db.clock()
        async with self._db.write() as conn:
            task = await _task_row(conn, principal, task_id)
            latest = await conn.scalar(
                sa.select(deliveries.c.id)
                .where(deliveries.c.task_id == task_id)
                .order_by(deliveries.c.id.desc())
                .limit(1)
            )
            if latest is not None:
                d = deliveries.c
                await conn.execute(
                    _requeue(d.id == latest, d.status != DeliveryStatus.DELIVERING.value, now=now)
                )
            elif task["callback_url"] and task["status"] in (
                TaskStatus.COMPLETED.value,
                TaskStatus.ERROR.value,
            ):
                await tasks_finished(self._db, conn, [dict(task)], callbacks=True)
            await record(
                conn,
                [event_row(task, at=now, actor=principal.key_id, action="callback_resent")],
            )
            await self._db.announce_callbacks(conn)
        return await self.for_task(principal, task_id)

    async def replay(
        self,
        principal: Principal,
        *,
        status: DeliveryStatus,
        since: datetime | None,
        until: datetime | None,
    ) -> int:
        """Re-queue the account's deliveries in `status` (last changed between since and until)."""
        d = deliveries.c
        conditions = [
            d.account_id == principal.account_id,
            d.environment == principal.environment.value,
            d.status == status.value,
        ]
        if since is not None:
            conditions.append(d.updated_at >= since)
        if until is not None:
            conditions.append(d.updated_at <= until)
        async with self._db.write() as conn:
            result = await conn.execute(_requeue(*conditions, now=self._db.clock()))
            await self._db.announce_callbacks(conn)
        return int(result.rowcount)


async def _task_row(conn: AsyncConnection, principal: Principal, task_id: str) -> sa.RowMapping:
    """The task in the principal's scope.

    Raises:
        NotFound: no such task there.
    """
    query = sa.select(tasks).where(*scoped(principal), tasks.c.id == task_id)
    return found(await first_row(conn, query), f"Task {task_id} not found")


async def prune_attempts(db: Database, *, older_than: datetime, chunk: int = 5000) -> int:
    """Delete attempt logs of finished deliveries last changed before `older_than`.

    Works in chunks (one short transaction each) so it never holds the write
    lock for long; answers how many rows went.
    """
    finished = sa.select(deliveries.c.id).where(
        deliveries.c.status.in_([DeliveryStatus.SUCCEEDED.value, DeliveryStatus.FAILED.value]),
        deliveries.c.updated_at < older_than,
    )
    total = 0
    while True:
        batch = (
            sa.select(delivery_attempts.c.id)
            .where(delivery_attempts.c.delivery_id.in_(finished))
            .limit(chunk)
        )
        async with db.write() as conn:
            result = await conn.execute(
                sa.delete(delivery_attempts).where(delivery_attempts.c.id.in_(batch))
            )
        total += int(result.rowcount)
        if result.rowcount < chunk:
            return total
