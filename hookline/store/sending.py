"""The sender's side of the outbox: claiming due deliveries, and recording each attempt.

The sender claims due deliveries with a lease (SKIP LOCKED on PostgreSQL),
sends them, and records every attempt here; a delivery whose sender died
mid-attempt goes back to pending when its lease expires (the lease sweep).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.models import DeliveryStatus, DueDelivery
from hookline.schedule import Next
from hookline.signing import active_secrets
from hookline.store.base import Database
from hookline.store.events import SYSTEM, event_row, record
from hookline.store.group_commit import GroupCommit
from hookline.store.sqlite_plans import prepared
from hookline.store.tables import account_credentials, deliveries, delivery_attempts, tasks

MAX_BODY_CHARS = 4096
LEASE_SWEEP_S = 5.0
"""How often a sender returns deliveries with expired leases to pending."""

_STATUS_AFTER = {Next.SUCCEEDED: DeliveryStatus.SUCCEEDED, Next.FAILED: DeliveryStatus.FAILED}
"""A delivery's status after an attempt; pending (due again) otherwise."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptRecord:
    """One callback attempt as it is recorded: what the POST got (a `schedule.AttemptResult`)
    and what follows it; `DeliveryStore.record` writes it."""

    delivery_id: str
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    body: str | None
    next: Next
    """What follows the attempt: succeeded, send again, or failed."""
    next_attempt_at: datetime | None
    reason: str | None = None
    detail: str | None = None
    """For an attempt without an answer: what went wrong (kept in the attempt's body column)."""


def _attempt_text(attempt: AttemptRecord) -> str | None:
    """What the attempt's body column keeps: the answer's body, or, with no answer, the detail.

    No attempt has both, so one column holds either (read back by `status_code`).
    """
    text = attempt.body if attempt.status_code is not None else attempt.detail
    return text[:MAX_BODY_CHARS] if text else text


_D = deliveries.c
# Built once (see events._INSERT_EVENTS).
_INSERT_ATTEMPTS = prepared(sa.insert(delivery_attempts))


_SETTLE_MAX = 32
"""The most attempts one settling statement takes: six sizes are built, none large."""


@functools.cache
def _settle(size: int) -> sa.Update:
    """The consequences of up to `size` attempts for their deliveries, in one statement
    (built once per size, a power of two): each row's values by CASE on its id, every row
    guarded by the sender's lease. Answers the rows it changed; slots beyond the batch
    hold NULL ids, which match nothing."""
    ids = [sa.bindparam(f"settle_id_{i}", type_=_D.id.type) for i in range(size)]

    def per_row(name: str, column: sa.Column[Any]) -> sa.Case[Any]:
        whens = [
            (_D.id == ids[i], sa.bindparam(f"set_{name}_{i}", type_=column.type))
            for i in range(size)
        ]
        return sa.case(*whens, else_=column)

    return prepared(
        sa.update(deliveries)
        .where(
            _D.id.in_(ids),
            _D.lease_owner == sa.bindparam("settle_worker"),
            _D.status == DeliveryStatus.DELIVERING.value,
        )
        .values(
            status=per_row("status", _D.status),
            next_attempt_at=per_row("next_attempt_at", _D.next_attempt_at),
            last_status_code=per_row("last_status_code", _D.last_status_code),
            attempts=_D.attempts + 1,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=sa.bindparam("settle_now", type_=_D.updated_at.type),
        )
        .returning(_D.id, _D.task_id, _D.attempts, _D.account_id, _D.environment)
    )


def _settle_params(
    worker: str, attempts: Sequence[AttemptRecord], size: int, now: datetime
) -> dict[str, Any]:
    params: dict[str, Any] = {"settle_worker": worker, "settle_now": now}
    for i in range(size):
        o = attempts[i] if i < len(attempts) else None
        params[f"settle_id_{i}"] = o.delivery_id if o else None
        params[f"set_status_{i}"] = (
            _STATUS_AFTER.get(o.next, DeliveryStatus.PENDING).value if o else None
        )
        params[f"set_next_attempt_at_{i}"] = o.next_attempt_at if o else None
        params[f"set_last_status_code_{i}"] = o.status_code if o else None
    return params


_DELIVERED = prepared(
    sa.update(tasks)
    .where(tasks.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(callback_completed=True)
)
_CREDENTIALS = prepared(
    sa.select(account_credentials).where(
        account_credentials.c.account_id.in_(sa.bindparam("ids", expanding=True))
    )
)


def _due(*more: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Pending deliveries due at `now`, oldest due first, at most `limit`."""
    d = deliveries.c
    return (
        sa.select(d.id)
        .where(
            d.status == DeliveryStatus.PENDING.value,
            d.next_attempt_at <= sa.bindparam("now", type_=d.next_attempt_at.type),
            *more,
        )
        .order_by(d.next_attempt_at)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .with_for_update(skip_locked=True)
    )


_DUE = prepared(_due())
_DUE_SKIPPING = prepared(_due(deliveries.c.host.not_in(sa.bindparam("hosts", expanding=True))))
_LEASE = prepared(
    sa.update(deliveries)
    .where(deliveries.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        status=DeliveryStatus.DELIVERING.value,
        lease_owner=sa.bindparam("worker"),
        lease_expires_at=sa.bindparam("expires", type_=deliveries.c.lease_expires_at.type),
        updated_at=sa.bindparam("now", type_=deliveries.c.updated_at.type),
    )
    .returning(
        *(
            deliveries.c[name]
            for name in ("id", "url", "host", "payload", "attempts", "account_id", "environment")
        )
    )
)


class DeliverySender:
    """Use cases of the sender: claim due deliveries (sweeping expired leases first), and
    record an attempt with its consequences (the delivery's schedule, the task's
    callback_completed, the trail's callback_delivered / callback_failed)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._records: GroupCommit[tuple[str, AttemptRecord], None] = GroupCommit(
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
        wanted: dict[str, Any] = {"now": now, "limit": limit}
        if skip_hosts:
            wanted["hosts"] = list(skip_hosts)

        async def lease(conn: AsyncConnection) -> tuple[list[str], list[DueDelivery]]:
            if self._next_sweep is None or now >= self._next_sweep:
                await _sweep_expired_leases(conn, now)
                self._next_sweep = now + timedelta(seconds=LEASE_SWEEP_S)
            ids = list((await conn.scalars(_DUE_SKIPPING if skip_hosts else _DUE, wanted)).all())
            if not ids:
                return ids, []
            rows = await _lease(conn, ids, worker=worker, now=now, lease_s=lease_s)
            return ids, await signed(conn, rows, now)

        ids, due = await self._db.transact(lease)
        order = {delivery_id: i for i, delivery_id in enumerate(ids)}
        return sorted(due, key=lambda due_: order[due_.id])

    async def record(self, worker: str, attempt: AttemptRecord) -> None:
        """Store an attempt and its consequence; concurrent records share a transaction."""
        await self._records.submit((worker, attempt))

    async def _record_batch(
        self, items: Sequence[tuple[str, AttemptRecord]]
    ) -> list[BaseException | None]:
        now = self._db.clock()
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
        by_worker: dict[str, list[AttemptRecord]] = {}
        for worker, o in items:
            by_worker.setdefault(worker, []).append(o)

        async def store(conn: AsyncConnection) -> None:
            await conn.execute(_INSERT_ATTEMPTS, attempts_rows)
            for worker, all_attempts in by_worker.items():
                for start in range(0, len(all_attempts), _SETTLE_MAX):
                    attempts = all_attempts[start : start + _SETTLE_MAX]
                    size = 1 << (len(attempts) - 1).bit_length()
                    settled = await conn.execute(
                        _settle(size), _settle_params(worker, attempts, size, now)
                    )
                    await _task_consequences(conn, attempts, settled.mappings().all(), now)

        await self._db.transact(store)
        return [None] * len(items)


async def _sweep_expired_leases(conn: AsyncConnection, now: datetime) -> None:
    """Deliveries whose sender's lease expired (it died mid-attempt) are pending again."""
    d = deliveries.c
    await conn.execute(
        sa.update(deliveries)
        .where(d.status == DeliveryStatus.DELIVERING.value, d.lease_expires_at < now)
        .values(
            status=DeliveryStatus.PENDING.value,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )


async def _lease(
    conn: AsyncConnection, ids: Sequence[str], *, worker: str, now: datetime, lease_s: float
) -> Sequence[sa.RowMapping]:
    """Lease these deliveries to `worker`; what sending them needs."""
    leased = await conn.execute(
        _LEASE,
        {
            "ids": list(ids),
            "worker": worker,
            "expires": now + timedelta(seconds=lease_s),
            "now": now,
        },
    )
    return leased.mappings().all()


async def signed(
    conn: AsyncConnection, rows: Sequence[Mapping[Any, Any]], now: datetime
) -> list[DueDelivery]:
    """The leased deliveries (rows with id, url, host, payload, attempts, account_id and
    environment), each with the credentials of its task's environment."""
    found = await conn.execute(_CREDENTIALS, {"ids": list({r["account_id"] for r in rows})})
    creds = {(r["account_id"], r["environment"]): r for r in found.mappings()}
    out = []
    for row in rows:
        account = creds[(row["account_id"], row["environment"])]
        secrets = active_secrets(
            account["webhook_secret"],
            account["previous_webhook_secret"],
            account["previous_secret_expires_at"],
            now=now,
        )
        out.append(
            DueDelivery(
                id=row["id"],
                url=row["url"],
                host=row["host"],
                payload=row["payload"],
                attempts=row["attempts"],
                callback_auth_key=account["callback_auth_key"] or "",
                secrets=secrets,
            )
        )
    return out


async def _task_consequences(
    conn: AsyncConnection,
    attempts: Sequence[AttemptRecord],
    settled: Sequence[sa.RowMapping],
    now: datetime,
) -> None:
    """callback_completed and the trail's callback_delivered / callback_failed events, for
    the task deliveries whose attempt was their last (`settled`: the rows the lease-guarded
    update changed; a sender that lost its lease changes nothing, and records no event)."""
    final = {o.delivery_id: o for o in attempts if o.next in _STATUS_AFTER}
    rows = [r for r in settled if r["id"] in final and r["task_id"] is not None]
    if not rows:
        return
    delivered = [r["task_id"] for r in rows if final[r["id"]].next == Next.SUCCEEDED]
    if delivered:
        await conn.execute(_DELIVERED, {"ids": delivered})
    events = []
    for r in rows:
        attempt = final[r["id"]]
        ok = attempt.next == Next.SUCCEEDED
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
                reason=None if ok else attempt.reason,
                details={
                    "delivery_id": r["id"],
                    "attempt": r["attempts"],
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                },
            )
        )
    await record(conn, events)
