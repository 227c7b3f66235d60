"""The audit trail (task_events) and reviews (audits): writing rows and querying them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.models import (
    JSON,
    Audit,
    AuditFilter,
    AuditRecord,
    EventFilter,
    Principal,
    ReviewResult,
    TaskEvent,
)
from hookline.store.base import Database
from hookline.store.tables import audits, task_events, tasks

SYSTEM = "system"
"""The actor of changes nobody asked for, such as an expired lease."""


def event_row(
    task: Any,
    *,
    at: datetime,
    actor: str,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    reason: str | None = None,
    details: dict[str, JSON] | None = None,
) -> dict[str, Any]:
    """A task_events row for a task row (anything with id, account_id, environment)."""
    return {
        "task_id": task["id"],
        "account_id": task["account_id"],
        "environment": task["environment"],
        "at": at,
        "actor": actor,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "details": details,
    }


async def record(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Append events in the caller's transaction."""
    if rows:
        await conn.execute(sa.insert(task_events), list(rows))


def _event(row: sa.RowMapping) -> TaskEvent:
    return TaskEvent(
        id=row["id"],
        task_id=row["task_id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        reason=row["reason"],
        details=row["details"],
    )


def audit_from_row(row: sa.RowMapping) -> Audit:
    return Audit(
        audited_by=row["audited_by"],
        audited_at=row["audited_at"],
        audit_time_secs=row["audit_time_secs"],
        audit_result=ReviewResult(row["audit_result"]),
        audit_source=row["audit_source"],
        comments=row["comments"],
    )


class EventStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def events(
        self, principal: Principal, where: EventFilter, *, after_id: int | None, limit: int
    ) -> tuple[list[TaskEvent], bool]:
        """Events in the principal's scope, oldest first; and whether more follow."""
        e = task_events.c
        query = sa.select(task_events).where(
            e.account_id == principal.account_id, e.environment == principal.environment.value
        )
        if where.task_id is not None:
            query = query.where(e.task_id == where.task_id)
        if where.actions:
            query = query.where(e.action.in_(where.actions))
        if where.actor is not None:
            query = query.where(e.actor == where.actor)
        if where.since is not None:
            query = query.where(e.at >= where.since)
        if where.until is not None:
            query = query.where(e.at <= where.until)
        if where.project is not None:
            query = query.where(
                e.task_id.in_(
                    sa.select(tasks.c.id).where(
                        tasks.c.account_id == principal.account_id,
                        tasks.c.environment == principal.environment.value,
                        tasks.c.project == where.project,
                    )
                )
            )
        if after_id is not None:
            query = query.where(e.id > after_id)
        query = query.order_by(e.id).limit(limit + 1)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_event(r) for r in rows[:limit]], len(rows) > limit

    async def audits(
        self, principal: Principal, where: AuditFilter, *, after_id: int | None, limit: int
    ) -> tuple[list[AuditRecord], bool]:
        """Reviews of the principal's tasks, oldest first; and whether more follow."""
        a, t = audits.c, tasks.c
        query = (
            sa.select(audits, t.project)
            .join(tasks, t.id == a.task_id)
            .where(
                t.account_id == principal.account_id, t.environment == principal.environment.value
            )
        )
        if where.results:
            query = query.where(a.audit_result.in_(where.results))
        if where.auditor is not None:
            query = query.where(a.audited_by == where.auditor)
        if where.project is not None:
            query = query.where(t.project == where.project)
        if where.since is not None:
            query = query.where(a.audited_at >= where.since)
        if where.until is not None:
            query = query.where(a.audited_at <= where.until)
        if after_id is not None:
            query = query.where(a.id > after_id)
        query = query.order_by(a.id).limit(limit + 1)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        records = [
            AuditRecord(
                id=r["id"], task_id=r["task_id"], project=r["project"], audit=audit_from_row(r)
            )
            for r in rows[:limit]
        ]
        return records, len(rows) > limit
