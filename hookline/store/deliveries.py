"""The callback outbox: deliveries written with the transitions that cause them, then sent.

A delivery row is inserted in the same transaction as the completion (or
error) it announces, so a committed completion always gets its callback. The
sender claims due deliveries with a lease (SKIP LOCKED on PostgreSQL), sends
them, and records every attempt; the schedule lives in `next_attempt_at`, so
"due" is a query and retries survive restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import NotFound
from hookline.ids import new_object_id
from hookline.models import (
    JSON,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    DueDelivery,
    Environment,
    Principal,
    TaskStatus,
)
from hookline.schedule import Next
from hookline.serialize import task_json
from hookline.store.base import Database
from hookline.store.events import SYSTEM, event_row, record
from hookline.store.group_commit import GroupCommit
from hookline.store.rows import scoped, task_from_row
from hookline.store.tables import (
    account_credentials,
    batches,
    deliveries,
    delivery_attempts,
    tasks,
)

MAX_BODY_CHARS = 4096
LEASE_SWEEP_S = 5.0
"""How often a sender returns deliveries with expired leases to pending."""


def task_payload(row: Mapping[Any, Any]) -> dict[str, JSON]:
    """The callback body: Scale's `{task_id, status, response, task}`."""
    task = task_from_row(row)
    return {
        "task_id": task.id,
        "status": task.status.value,
        "response": task.response,
        "task": task_json(task, is_test=row["environment"] == Environment.TEST.value),
    }


def delivery_row(
    db: Database,
    *,
    account_id: int,
    environment: str,
    url: str,
    event: str,
    payload: dict[str, JSON],
    task_id: str | None = None,
    batch: str | None = None,
) -> dict[str, Any]:
    now = db.clock()
    return {
        "id": new_object_id(now, db.random_bytes),
        "account_id": account_id,
        "environment": environment,
        "task_id": task_id,
        "batch": batch,
        "event": event,
        "url": url,
        "host": (urlsplit(url).hostname or "").lower()[:300],
        "payload": payload,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now + timedelta(seconds=db.first_callback_delay_s),
        "lease_owner": None,
        "lease_expires_at": None,
        "last_status_code": None,
        "created_at": now,
        "updated_at": now,
    }


async def tasks_finished(
    db: Database, conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]], *, callbacks: bool
) -> None:
    """In the transaction that finished these tasks: their callbacks, and their batches.

    With `callbacks`, each task with a callback_url gets an outbox row; a
    finalized batch whose last task this was is completed and called back.
    """
    outbox = [
        delivery_row(
            db,
            account_id=row["account_id"],
            environment=row["environment"],
            url=row["callback_url"],
            event=f"task.{row['status']}",
            payload=task_payload(row),
            task_id=row["id"],
        )
        for row in rows
        if callbacks and row["callback_url"]
    ]
    if outbox:
        await conn.execute(sa.insert(deliveries), outbox)
        await db.announce_callbacks(conn)
    await _complete_batches(db, conn, rows)


async def _complete_batches(
    db: Database, conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]]
) -> None:
    """A finalized batch whose last task just finished is completed, and called back once."""
    scopes = {(r["account_id"], r["environment"], r["batch"]) for r in rows if r["batch"]}
    for account_id, environment, name in scopes:
        await complete_batch_if_done(db, conn, account_id, environment, name)


async def complete_batch_if_done(
    db: Database, conn: AsyncConnection, account_id: int, environment: str, name: str
) -> bool:
    """in_progress → completed once it has tasks and none is pending; enqueue its callback."""
    in_batch = [
        tasks.c.account_id == account_id,
        tasks.c.environment == environment,
        tasks.c.batch == name,
    ]
    counts: dict[str, int] = dict(
        (
            await conn.execute(
                sa.select(tasks.c.status, sa.func.count()).where(*in_batch).group_by(tasks.c.status)
            )
        ).all()
    )
    if not counts or counts.get(TaskStatus.PENDING.value):
        return False
    done = (
        (
            await conn.execute(
                sa.update(batches)
                .where(
                    batches.c.account_id == account_id,
                    batches.c.environment == environment,
                    batches.c.name == name,
                    batches.c.status == "in_progress",
                    batches.c.finalized_at.is_not(None),
                )
                .values(status="completed")
                .returning(*batches.c)
            )
        )
        .mappings()
        .first()
    )
    if done is None:
        return False
    callback = done["callback"]
    if callback and callback.startswith(("http://", "https://")):
        payload: dict[str, JSON] = {
            "batch": name,
            "project": done["project"],
            "status": "completed",
            **{s.value: int(counts.get(s.value, 0)) for s in TaskStatus},
        }
        row = delivery_row(
            db,
            account_id=account_id,
            environment=environment,
            url=callback,
            event="batch.completed",
            payload=payload,
            batch=name,
        )
        await conn.execute(sa.insert(deliveries), [row])
        await db.announce_callbacks(conn)
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptOutcome:
    """One attempt's result and what follows it, for `DeliveryStore.record`."""

    delivery_id: str
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    body: str | None
    next: Next
    next_attempt_at: datetime | None
    reason: str | None = None
    detail: str | None = None
    """For an attempt without an answer: what went wrong (kept in the attempt's body column)."""


def _attempt_text(outcome: AttemptOutcome) -> str | None:
    """What the attempt's body column keeps: the answer's body, or, with no answer, the detail.

    No attempt has both, so one column holds either (read back by `status_code`).
    """
    text = outcome.body if outcome.status_code is not None else outcome.detail
    return text[:MAX_BODY_CHARS] if text else text


def _delivery(row: sa.RowMapping, attempts: Sequence[DeliveryAttempt] = ()) -> Delivery:
    return Delivery(
        id=row["id"],
        task_id=row["task_id"],
        batch=row["batch"],
        event=row["event"],
        url=row["url"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status_code=row["last_status_code"],
        created_at=row["created_at"],
        attempt_log=tuple(attempts),
    )


class DeliveryStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._records: GroupCommit[tuple[str, AttemptOutcome], None] = GroupCommit(
            self._record_batch
        )
        self._next_sweep: datetime | None = None

    async def claim(
        self, *, worker: str, limit: int, lease_s: float, skip_hosts: Sequence[str] = ()
    ) -> list[DueDelivery]:
        """Lease due deliveries, oldest due first; hosts at their concurrency cap are skipped.

        Every `LEASE_SWEEP_S` the claim first returns deliveries whose lease
        expired (their sender died mid-attempt) to pending, so the claim itself
        reads only the pending index.
        """
        now = self._db.clock()
        d = deliveries.c
        query = (
            sa.select(d.id)
            .where(d.status == DeliveryStatus.PENDING.value, d.next_attempt_at <= now)
            .order_by(d.next_attempt_at)
            .limit(limit)
        )
        if skip_hosts:
            query = query.where(d.host.not_in(list(skip_hosts)))
        query = query.with_for_update(skip_locked=True)
        sweep = self._next_sweep is None or now >= self._next_sweep
        async with self._db.write() as conn:
            if sweep:
                await conn.execute(
                    sa.update(deliveries)
                    .where(
                        d.status == DeliveryStatus.DELIVERING.value,
                        d.lease_expires_at < now,
                    )
                    .values(
                        status=DeliveryStatus.PENDING.value,
                        lease_owner=None,
                        lease_expires_at=None,
                        updated_at=now,
                    )
                )
                self._next_sweep = now + timedelta(seconds=LEASE_SWEEP_S)
            ids = list((await conn.scalars(query)).all())
            if not ids:
                return []
            rows = (
                (
                    await conn.execute(
                        sa.update(deliveries)
                        .where(d.id.in_(ids))
                        .values(
                            status=DeliveryStatus.DELIVERING.value,
                            lease_owner=worker,
                            lease_expires_at=now + timedelta(seconds=lease_s),
                            updated_at=now,
                        )
                        .returning(
                            d.id, d.url, d.host, d.payload, d.attempts, d.account_id, d.environment
                        )
                    )
                )
                .mappings()
                .all()
            )
            # A delivery is signed with the credentials of its task's environment.
            c = account_credentials.c
            creds = {
                (r["account_id"], r["environment"]): r
                for r in (
                    await conn.execute(
                        sa.select(account_credentials).where(
                            c.account_id.in_({r["account_id"] for r in rows})
                        )
                    )
                ).mappings()
            }
        out = []
        for row in rows:
            account = creds[(row["account_id"], row["environment"])]
            secrets = [account["webhook_secret"]]
            expires = account["previous_secret_expires_at"]
            if account["previous_webhook_secret"] and expires is not None and expires > now:
                secrets.append(account["previous_webhook_secret"])
            out.append(
                DueDelivery(
                    id=row["id"],
                    url=row["url"],
                    host=row["host"],
                    payload=row["payload"],
                    attempts=row["attempts"],
                    callback_auth_key=account["callback_auth_key"] or "",
                    secrets=tuple(s for s in secrets if s),
                )
            )
        order = {delivery_id: i for i, delivery_id in enumerate(ids)}
        return sorted(out, key=lambda due_: order[due_.id])

    async def record(self, worker: str, outcome: AttemptOutcome) -> None:
        """Store an attempt and its consequence; concurrent records share a transaction."""
        await self._records.submit((worker, outcome))

    async def _record_batch(
        self, items: Sequence[tuple[str, AttemptOutcome]]
    ) -> list[BaseException | None]:
        attempts_rows = [
            {
                "delivery_id": o.delivery_id,
                "at": o.at,
                "status_code": o.status_code,
                "error": o.error,
                "duration_ms": o.duration_ms,
                "body": _attempt_text(o),
            }
            for _, o in items
        ]
        now = self._db.clock()
        async with self._db.write() as conn:
            await conn.execute(sa.insert(delivery_attempts), attempts_rows)
            params = [
                {
                    "w_id": o.delivery_id,
                    "w_worker": worker,
                    "v_status": {
                        Next.SUCCEEDED: DeliveryStatus.SUCCEEDED.value,
                        Next.FAILED: DeliveryStatus.FAILED.value,
                    }.get(o.next, DeliveryStatus.PENDING.value),
                    "v_next_attempt_at": o.next_attempt_at,
                    "v_last_status_code": o.status_code,
                }
                for worker, o in items
            ]
            d = deliveries.c
            await conn.execute(
                sa.update(deliveries)
                .where(
                    d.id == sa.bindparam("w_id"),
                    d.lease_owner == sa.bindparam("w_worker"),
                    d.status == DeliveryStatus.DELIVERING.value,
                )
                .values(
                    status=sa.bindparam("v_status"),
                    next_attempt_at=sa.bindparam("v_next_attempt_at", type_=d.next_attempt_at.type),
                    last_status_code=sa.bindparam("v_last_status_code"),
                    attempts=d.attempts + 1,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                ),
                params,
            )
            await self._task_consequences(conn, items, now)
        return [None] * len(items)

    async def _task_consequences(
        self, conn: AsyncConnection, items: Sequence[tuple[str, AttemptOutcome]], now: datetime
    ) -> None:
        """callback_completed and the trail's callback_delivered / callback_failed events."""
        final = {o.delivery_id: o for _, o in items if o.next in (Next.SUCCEEDED, Next.FAILED)}
        if not final:
            return
        d = deliveries.c
        query = sa.select(d.id, d.task_id, d.attempts, d.account_id, d.environment).where(
            d.id.in_(list(final)), d.task_id.is_not(None)
        )
        rows = (await conn.execute(query)).mappings().all()
        delivered = [r["task_id"] for r in rows if final[r["id"]].next == Next.SUCCEEDED]
        if delivered:
            await conn.execute(
                sa.update(tasks).where(tasks.c.id.in_(delivered)).values(callback_completed=True)
            )
        events = []
        for r in rows:
            outcome = final[r["id"]]
            ok = outcome.next == Next.SUCCEEDED
            events.append(
                event_row(
                    {
                        "id": r["task_id"],
                        "account_id": r["account_id"],
                        "environment": r["environment"],
                    },
                    at=now,
                    actor=SYSTEM,
                    action="callback_delivered" if ok else "callback_failed",
                    reason=None if ok else outcome.reason,
                    details={
                        "delivery_id": r["id"],
                        "attempt": r["attempts"],
                        "status_code": outcome.status_code,
                        "error": outcome.error,
                    },
                )
            )
        await record(conn, events)

    async def prune_attempts(self, *, older_than: datetime) -> int:
        return await prune_attempts(self._db, older_than=older_than)

    async def for_task(self, principal: Principal, task_id: str) -> list[Delivery]:
        """A task's deliveries, oldest first, each with its attempt log."""
        async with self._db.read() as conn:
            exists = await conn.scalar(
                sa.select(tasks.c.id).where(*scoped(principal), tasks.c.id == task_id)
            )
            if exists is None:
                raise NotFound(f"Task {task_id} not found")
            rows = (
                (
                    await conn.execute(
                        sa.select(deliveries)
                        .where(deliveries.c.task_id == task_id)
                        .order_by(deliveries.c.id)
                    )
                )
                .mappings()
                .all()
            )
            log = (
                (
                    await conn.execute(
                        sa.select(delivery_attempts)
                        .where(delivery_attempts.c.delivery_id.in_([r["id"] for r in rows]))
                        .order_by(delivery_attempts.c.id)
                    )
                )
                .mappings()
                .all()
            )
        by_delivery: dict[str, list[DeliveryAttempt]] = {}
        for a in log:
            by_delivery.setdefault(a["delivery_id"], []).append(
                DeliveryAttempt(
                    at=a["at"],
                    status_code=a["status_code"],
                    error=a["error"],
                    duration_ms=a["duration_ms"],
                    # An attempt without an answer (no status code) keeps its detail in `body`.
                    body=a["body"] if a["status_code"] is not None else None,
                    detail=a["body"] if a["status_code"] is None else None,
                )
            )
        return [_delivery(r, by_delivery.get(r["id"], ())) for r in rows]

    async def resend(self, principal: Principal, task_id: str) -> list[Delivery]:
        """Send the task's callback again now: its latest delivery is re-queued with a fresh
        schedule, or a new one is made if the finished task never had one."""
        now = self._db.clock()
        async with self._db.write() as conn:
            task = (
                (
                    await conn.execute(
                        sa.select(tasks).where(*scoped(principal), tasks.c.id == task_id)
                    )
                )
                .mappings()
                .first()
            )
            if task is None:
                raise NotFound(f"Task {task_id} not found")
            latest = await conn.scalar(
                sa.select(deliveries.c.id)
                .where(deliveries.c.task_id == task_id)
                .order_by(deliveries.c.id.desc())
                .limit(1)
            )
            if latest is not None:
                await conn.execute(
                    sa.update(deliveries)
                    .where(deliveries.c.id == latest, deliveries.c.status != "delivering")
                    .values(
                        status=DeliveryStatus.PENDING.value,
                        attempts=0,
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )
            elif task["callback_url"] and task["status"] in ("completed", "error"):
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
        now = self._db.clock()
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
            result = await conn.execute(
                sa.update(deliveries)
                .where(*conditions)
                .values(
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    updated_at=now,
                )
            )
            await self._db.announce_callbacks(conn)
        return int(result.rowcount)


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
