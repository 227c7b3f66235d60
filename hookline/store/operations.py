"""Changes a submitter or reviewer makes to an existing task.

Status changes go through the lifecycle (`transitions.apply`): cancel,
redo, retry. Field changes keep the status: unique_id, metadata, tags, and a
review (audit). Each is one transaction that records its event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import DuplicateUniqueId, IllegalTransition
from hookline.lifecycle import Action, check_auditable
from hookline.models import JSON, Principal, ReviewResult, Task, TaskStatus
from hookline.store.base import Database
from hookline.store.events import event_row, record, task_with_audits
from hookline.store.rows import scoped, task_from_row
from hookline.store.tables import audits, tasks
from hookline.store.transitions import apply, load_for_update
from hookline.tags import TagMode, merge_tags


class TaskOperations:
    """Use cases: cancel, redo and retry a task; set its unique_id or metadata; change its
    tags; record a review of it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def cancel(self, principal: Principal, task_id: str, *, clear_unique_id: bool) -> Task:
        """pending → canceled, optionally freeing its unique_id.

        Raises:
            IllegalTransition: the task is not pending.
        """
        async with self._db.write() as conn:
            row = await load_for_update(conn, principal, task_id)
            try:
                row = await apply(
                    self._db,
                    conn,
                    row,
                    Action.CANCEL,
                    actor=principal.key_id,
                    extra={"unique_id": None} if clear_unique_id else None,
                    details={"cleared_unique_id": row["unique_id"]} if clear_unique_id else None,
                )
            except IllegalTransition as exc:
                raise IllegalTransition(
                    f"Task {task_id} cannot be canceled: it is {row['status']}; "
                    "only pending tasks can be canceled"
                ) from exc
            task = await task_with_audits(conn, row)
        self._db.signals.tasks_changed([task_id])
        return task

    async def redo(self, principal: Principal, task_id: str, *, reason: str | None) -> Task:
        """completed → pending, to be worked again."""
        return await self._reopen(principal, task_id, Action.REDO, reason)

    async def retry(self, principal: Principal, task_id: str, *, reason: str | None) -> Task:
        """error → pending, to be tried again."""
        return await self._reopen(principal, task_id, Action.RETRY, reason)

    async def _reopen(
        self, principal: Principal, task_id: str, action: Action, reason: str | None
    ) -> Task:
        async with self._db.write() as conn:
            row = await load_for_update(conn, principal, task_id)
            row = await apply(self._db, conn, row, action, actor=principal.key_id, reason=reason)
            await self._db.announce_work(conn)
        self._db.signals.tasks_changed([task_id])
        return task_from_row(row)

    async def set_unique_id(
        self, principal: Principal, task_id: str, unique_id: str | None
    ) -> Task:
        async with self._db.write() as conn:
            row = await load_for_update(conn, principal, task_id)
            try:
                async with conn.begin_nested():
                    row = await self._change(
                        conn,
                        principal,
                        row,
                        {"unique_id": unique_id},
                        action="unique_id_changed",
                        details={"from": row["unique_id"], "to": unique_id},
                    )
            except sa.exc.IntegrityError as exc:
                other = await conn.scalar(
                    sa.select(tasks.c.id).where(*scoped(principal), tasks.c.unique_id == unique_id)
                )
                raise DuplicateUniqueId(unique_id or "", other or "unknown") from exc
            return await task_with_audits(conn, row)

    async def set_metadata(
        self, principal: Principal, task_id: str, metadata: dict[str, JSON]
    ) -> Task:
        async with self._db.write() as conn:
            row = await load_for_update(conn, principal, task_id)
            row = await self._change(
                conn, principal, row, {"metadata": metadata}, action="metadata_set"
            )
            return await task_with_audits(conn, row)

    async def change_tags(
        self,
        principal: Principal,
        task_id: str,
        *,
        mode: TagMode,
        tags: Sequence[str],
        max_tags: int,
    ) -> Task:
        """Set, add (ignoring present) or delete (ignoring absent) tags (see `merge_tags`).

        Raises:
            Invalid: the result would have more than `max_tags` tags.
        """
        async with self._db.write() as conn:
            row = await load_for_update(conn, principal, task_id)
            current: list[str] = list(row["tags"] or [])
            result = merge_tags(current, tags, mode=mode, max_tags=max_tags)
            row = await self._change(
                conn,
                principal,
                row,
                {"tags": result},
                action="tags_changed",
                details={"mode": mode.value, "from": current, "to": result},
            )
            return await task_with_audits(conn, row)

    async def audit(
        self,
        principal: Principal,
        task_id: str,
        *,
        result: ReviewResult,
        comments: str | None,
        source: str = "customer",
        audit_time_secs: float | None = None,
        fixed_response: JSON | None = None,
    ) -> Task:
        """Record a review of a completed task; its review status follows the latest.

        A reviewer's `fixed` result may carry the corrected response, which replaces the task's.
        """
        async with self._db.write() as conn:
            row = await load_for_update(conn, principal, task_id)
            check_auditable(TaskStatus(row["status"]), task_id)
            values: dict[str, Any] = {"customer_review_status": result.value}
            if fixed_response is not None:
                values["response"] = fixed_response
            details: dict[str, JSON] = {
                "result": result.value,
                "source": source,
                "response_fixed": fixed_response is not None,
            }
            row = await self._change(
                conn, principal, row, values, action="audited", reason=comments, details=details
            )
            await conn.execute(
                sa.insert(audits).values(
                    task_id=task_id,
                    audited_by=principal.email,
                    audited_at=self._db.clock(),
                    audit_time_secs=audit_time_secs,
                    audit_result=result.value,
                    audit_source=source,
                    comments=comments,
                )
            )
            return await task_with_audits(conn, row)

    async def _change(
        self,
        conn: AsyncConnection,
        principal: Principal,
        row: sa.RowMapping,
        values: Mapping[str, Any],
        *,
        action: str,
        reason: str | None = None,
        details: dict[str, JSON] | None = None,
    ) -> sa.RowMapping:
        """Update fields that do not change the status, and record the event."""
        now = self._db.clock()
        stmt = (
            sa.update(tasks)
            .where(tasks.c.id == row["id"])
            .values(**values, updated_at=now)
            .returning(*tasks.c)
        )
        updated = (await conn.execute(stmt)).mappings().one()
        event = event_row(
            updated, at=now, actor=principal.key_id, action=action, reason=reason, details=details
        )
        await record(conn, [event])
        return updated
