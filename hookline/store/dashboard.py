"""Reads only the dashboard needs: session keys, bounded counts, failed deliveries, leases.

Every query here reads one index range and stops after a fixed number of rows,
so a page costs the same at a thousand tasks as at a million: counts are
capped (`cap + 1` rows at most; the page shows "10,000+"), and the recent
activity is read from the newest rows of the audit trail only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from hookline.models import (
    Delivery,
    DeliveryStatus,
    Environment,
    Principal,
    Scope,
    TaskStatus,
)
from hookline.store.base import Database
from hookline.store.tables import accounts, api_keys, deliveries, task_events, tasks


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionKey:
    """An active key by its public id, with the stored hash a session is signed with."""

    principal: Principal
    key_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Activity:
    """What the newest `window` events of the scope say happened since `since`."""

    counts: dict[str, int]
    """Events per action at or after `since`."""
    complete: bool
    """False when the window filled up before reaching `since`: counts are lower bounds."""
    claimed_by: dict[str, int]
    """Claims per worker at or after `since`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldLeases:
    """One worker's leases among the pending tasks looked at."""

    worker: str
    tasks: int
    latest_expiry: datetime


class DashboardStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def session_key(self, key_id: str) -> SessionKey | None:
        """The unrevoked key with this public id (one primary-key lookup), or None."""
        k = api_keys.c
        query = (
            sa.select(k.key_hash, k.scopes, k.owner, k.environment, accounts.c.id, accounts.c.name)
            .join(accounts, accounts.c.id == k.account_id)
            .where(k.id == key_id, k.revoked_at.is_(None))
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        key_hash, scopes, email, environment, account_id, account_name = row
        return SessionKey(
            principal=Principal(
                key_id=key_id,
                account_id=account_id,
                account_name=account_name,
                environment=Environment(environment),
                scopes=frozenset(Scope(s) for s in scopes.split(",") if s),
                email=email,
            ),
            key_hash=key_hash,
        )

    async def task_depths(self, principal: Principal, *, cap: int) -> dict[TaskStatus, int]:
        """Tasks per status, each counted up to `cap + 1` (ix_tasks_scope_status_id)."""
        found = {}
        async with self._db.read() as conn:
            for status in TaskStatus:
                inner = (
                    sa.select(tasks.c.id)
                    .where(*_scope(tasks, principal), tasks.c.status == status.value)
                    .limit(cap + 1)
                    .subquery()
                )
                found[status] = await conn.scalar(sa.select(sa.func.count()).select_from(inner))
        return {status: int(n or 0) for status, n in found.items()}

    async def delivery_depths(self, principal: Principal, *, cap: int) -> dict[DeliveryStatus, int]:
        """Deliveries per status, each counted up to `cap + 1` (ix_deliveries_scope_status)."""
        found = {}
        async with self._db.read() as conn:
            for status in DeliveryStatus:
                inner = (
                    sa.select(deliveries.c.id)
                    .where(*_scope(deliveries, principal), deliveries.c.status == status.value)
                    .limit(cap + 1)
                    .subquery()
                )
                found[status] = await conn.scalar(sa.select(sa.func.count()).select_from(inner))
        return {status: int(n or 0) for status, n in found.items()}

    async def activity(self, principal: Principal, *, last_s: float, window: int) -> Activity:
        """Counts of the last `last_s` seconds from the newest `window` events of the scope
        (ix_task_events_scope_id)."""
        since = self._db.clock() - timedelta(seconds=last_s)
        e = task_events.c
        newest = (
            sa.select(e.action, e.at, e.actor)
            .where(*_scope(task_events, principal))
            .order_by(e.id.desc())
            .limit(window)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(newest)).all()
        counts: dict[str, int] = {}
        claimed_by: dict[str, int] = {}
        for action, at, actor in rows:
            if at < since:
                continue
            counts[action] = counts.get(action, 0) + 1
            if action == "claimed":
                claimed_by[actor] = claimed_by.get(actor, 0) + 1
        complete = len(rows) < window or (bool(rows) and rows[-1][1] < since)
        return Activity(counts=counts, complete=complete, claimed_by=claimed_by)

    async def failed_deliveries(
        self,
        principal: Principal,
        *,
        limit: int,
        before: tuple[datetime, str] | None = None,
    ) -> tuple[list[Delivery], tuple[datetime, str] | None]:
        """Failed deliveries, last changed first (ix_deliveries_scope_status), and where the
        next page starts (None: this is the last)."""
        d = deliveries.c
        query = sa.select(deliveries).where(
            *_scope(deliveries, principal), d.status == DeliveryStatus.FAILED.value
        )
        if before is not None:
            at, delivery_id = before
            query = query.where(
                sa.or_(d.updated_at < at, sa.and_(d.updated_at == at, d.id < delivery_id))
            )
        query = query.order_by(d.updated_at.desc(), d.id.desc()).limit(limit + 1)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        page = rows[:limit]
        after = (page[-1]["updated_at"], page[-1]["id"]) if len(rows) > limit else None
        return [_delivery(r) for r in page], after

    async def held_leases(
        self, principal: Principal, *, window: int
    ) -> tuple[list[HeldLeases], bool]:
        """Unexpired leases among the oldest `window` pending tasks; was the window full?"""
        now = self._db.clock()
        t = tasks.c
        oldest = (
            # The lease holder's column; the store's refactor may rename it (`worker`).
            sa.select(t.lease_owner.label("worker"), t.lease_expires_at)
            .where(*_scope(tasks, principal), t.status == TaskStatus.PENDING.value)
            .order_by(t.id)
            .limit(window)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(oldest)).all()
        by_worker: dict[str, tuple[int, datetime]] = {}
        for worker, expires_at in rows:
            if worker is None or expires_at is None or expires_at <= now:
                continue
            count, latest = by_worker.get(worker, (0, expires_at))
            by_worker[worker] = (count + 1, max(latest, expires_at))
        held = [
            HeldLeases(worker=w, tasks=n, latest_expiry=at)
            for w, (n, at) in sorted(by_worker.items())
        ]
        return held, len(rows) == window


def _scope(table: sa.Table, principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [
        table.c.account_id == principal.account_id,
        table.c.environment == principal.environment.value,
    ]


def _delivery(row: sa.RowMapping) -> Delivery:
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
    )
