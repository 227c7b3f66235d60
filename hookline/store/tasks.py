"""Tasks: create with dedup, read, list with filters and a keyset cursor, guarded updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import (
    DuplicateUniqueId,
    IllegalOnBodyless,
    IllegalTransition,
    Invalid,
    NotFound,
)
from hookline.ids import new_object_id
from hookline.models import (
    JSON,
    Audit,
    NewTask,
    Principal,
    ReviewResult,
    Task,
    TaskFilter,
    TaskPage,
    TaskStatus,
)
from hookline.store.base import Database
from hookline.store.batching import GroupCommit
from hookline.store.dialect import insert, json_array_overlaps
from hookline.store.tables import audits, tasks


def _task(row: sa.RowMapping, task_audits: Sequence[Audit] = ()) -> Task:
    return Task(
        id=row["id"],
        type=row["type"],
        status=TaskStatus(row["status"]),
        instruction=row["instruction"],
        params=row["params"],
        response=row["response"],
        error=row["error"],
        metadata=row["metadata"],
        tags=row["tags"],
        unique_id=row["unique_id"],
        project=row["project"],
        batch=row["batch"],
        callback_url=row["callback_url"],
        callback_completed=row["callback_completed"],
        times_redone=row["times_redone"],
        priority=row["priority"],
        customer_review_status=row["customer_review_status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        completed_at=row["completed_at"],
        audits=tuple(task_audits),
    )


def _audit(row: sa.RowMapping) -> Audit:
    return Audit(
        audited_by=row["audited_by"],
        audited_at=row["audited_at"],
        audit_time_secs=row["audit_time_secs"],
        audit_result=ReviewResult(row["audit_result"]),
        audit_source=row["audit_source"],
        comments=row["comments"],
    )


def _scoped(principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [
        tasks.c.account_id == principal.account_id,
        tasks.c.environment == principal.environment.value,
    ]


class TaskStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._creates: GroupCommit[dict[str, Any], Task] = GroupCommit(self._insert_batch)

    async def create(
        self, principal: Principal, new: NewTask, *, completed_response: JSON | None = None
    ) -> Task:
        """Insert a task; a taken unique_id raises `DuplicateUniqueId` naming the other task.

        With `completed_response` the task is stored already completed (Scale's
        test environment completes tasks in the create request). Concurrent
        creates share a transaction (see `GroupCommit`).
        """
        now = self._db.clock()
        completed = completed_response is not None
        values = {
            "id": new_object_id(now, self._db.random_bytes),
            "account_id": principal.account_id,
            "environment": principal.environment.value,
            "type": new.type,
            "status": (TaskStatus.COMPLETED if completed else TaskStatus.PENDING).value,
            "instruction": new.instruction,
            "params": new.params,
            "response": completed_response,
            "error": None,
            "metadata": new.metadata,
            "tags": new.tags,
            "unique_id": new.unique_id,
            "project": new.project,
            "batch": new.batch,
            "callback_url": new.callback_url,
            "callback_completed": False,
            "times_redone": 0,
            "priority": new.priority,
            "customer_review_status": None,
            "created_at": now,
            "updated_at": now,
            "completed_at": now if completed else None,
        }
        return await self._creates.submit(values)

    async def _insert_batch(self, rows: Sequence[dict[str, Any]]) -> list[Task | BaseException]:
        """One multi-row INSERT … ON CONFLICT DO NOTHING; rows it skipped are duplicates."""
        stmt = (
            insert(tasks, self._db.dialect)
            .values(list(rows))
            .on_conflict_do_nothing(
                index_elements=["account_id", "environment", "unique_id"],
                index_where=tasks.c.unique_id.is_not(None),
            )
            .returning(*tasks.c)
        )
        try:
            async with self._db.write() as conn:
                inserted = {r["id"]: r for r in (await conn.execute(stmt)).mappings()}
                holders = await self._unique_id_holders(
                    conn, [row for row in rows if row["id"] not in inserted]
                )
        except sa.exc.DBAPIError:
            if len(rows) == 1:
                raise
            # Something in one row broke the batch: write each alone, so only it fails.
            return [await self._insert_alone(row) for row in rows]
        outcomes: list[Task | BaseException] = []
        for row in rows:
            if row["id"] in inserted:
                outcomes.append(_task(inserted[row["id"]]))
            else:
                key = (row["account_id"], row["environment"], row["unique_id"])
                outcomes.append(
                    DuplicateUniqueId(row["unique_id"] or "", holders.get(key, "unknown"))
                )
        return outcomes

    async def _insert_alone(self, row: dict[str, Any]) -> Task | BaseException:
        try:
            (outcome,) = await self._insert_batch([row])
        except sa.exc.DBAPIError as exc:
            return exc
        return outcome

    async def _unique_id_holders(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> dict[tuple[int, str, str], str]:
        """Which task holds each of these rows' unique_ids (for the 409 message)."""
        if not rows:
            return {}
        keys = {(r["account_id"], r["environment"], r["unique_id"]) for r in rows}
        query = sa.select(
            tasks.c.account_id, tasks.c.environment, tasks.c.unique_id, tasks.c.id
        ).where(
            sa.tuple_(tasks.c.account_id, tasks.c.environment, tasks.c.unique_id).in_(list(keys))
        )
        found = (await conn.execute(query)).all()
        return {(a, e, u): task_id for a, e, u, task_id in found}

    async def get(self, principal: Principal, task_id: str) -> Task:
        async with self._db.read() as conn:
            return await self._get(conn, principal, task_id)

    async def _get(self, conn: AsyncConnection, principal: Principal, task_id: str) -> Task:
        row = (
            (await conn.execute(sa.select(tasks).where(*_scoped(principal), tasks.c.id == task_id)))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"Task {task_id} not found")
        found = await self._audits(conn, [task_id])
        return _task(row, found.get(task_id, ()))

    async def _audits(
        self, conn: AsyncConnection, task_ids: Sequence[str]
    ) -> dict[str, list[Audit]]:
        if not task_ids:
            return {}
        rows = (
            await conn.execute(
                sa.select(audits).where(audits.c.task_id.in_(task_ids)).order_by(audits.c.id)
            )
        ).mappings()
        found: dict[str, list[Audit]] = {}
        for row in rows:
            found.setdefault(row["task_id"], []).append(_audit(row))
        return found

    async def page(
        self,
        principal: Principal,
        where: TaskFilter,
        *,
        limit: int,
        before_id: str | None = None,
        with_audits: bool = True,
    ) -> TaskPage:
        """One page, newest first, and the exact total for the filter."""
        conditions = [*_scoped(principal), *self._conditions(where)]
        page_query = sa.select(tasks).where(*conditions)
        if before_id is not None:
            page_query = page_query.where(tasks.c.id < before_id)
        page_query = page_query.order_by(tasks.c.id.desc()).limit(limit + 1)
        count_query = sa.select(sa.func.count()).select_from(tasks).where(*conditions)
        async with self._db.read() as conn:
            rows = (await conn.execute(page_query)).mappings().all()
            total = await conn.scalar(count_query) or 0
            has_more = len(rows) > limit
            rows = rows[:limit]
            found = await self._audits(conn, [r["id"] for r in rows]) if with_audits else {}
        docs = [_task(row, found.get(row["id"], ())) for row in rows]
        return TaskPage(
            docs=docs, total=total, has_more=has_more, last_id=docs[-1].id if docs else None
        )

    def _conditions(self, where: TaskFilter) -> list[sa.ColumnElement[bool]]:
        c = tasks.c
        out: list[sa.ColumnElement[bool]] = []
        ranges: list[tuple[sa.Column[Any], datetime | None, datetime | None]] = [
            (c.created_at, where.created_after, where.created_before),
            (c.updated_at, where.updated_after, where.updated_before),
            (c.completed_at, where.completed_after, where.completed_before),
        ]
        for column, after, before in ranges:
            if after is not None:
                out.append(column >= after)
            if before is not None:
                out.append(column <= before)
        if where.statuses:
            out.append(c.status.in_([s.value for s in where.statuses]))
        for column, value in (
            (c.type, where.type),
            (c.project, where.project),
            (c.batch, where.batch),
        ):
            if value is not None:
                out.append(column == value)
        if where.review_statuses:
            wanted = [s for s in where.review_statuses if s != "pending"]
            review: sa.ColumnElement[bool] = c.customer_review_status.in_(wanted)
            if "pending" in where.review_statuses:
                # Not yet reviewed: Scale calls that "pending".
                review = sa.or_(review, c.customer_review_status.is_(None))
            out.append(review)
        if where.unique_ids:
            out.append(c.unique_id.in_(where.unique_ids))
        if where.tags:
            out.append(json_array_overlaps(c.tags, where.tags, self._db.dialect))
        return out

    async def cancel(self, principal: Principal, task_id: str, *, clear_unique_id: bool) -> Task:
        """pending → canceled; anything else is a 400 (the client cannot read a 409 here)."""
        values: dict[str, Any] = {"status": TaskStatus.CANCELED.value}
        if clear_unique_id:
            values["unique_id"] = None
        async with self._db.write() as conn:
            changed = await self._update(conn, principal, task_id, values, TaskStatus.PENDING)
            if not changed:
                task = await self._get(conn, principal, task_id)
                raise IllegalOnBodyless(
                    f"Task {task_id} cannot be canceled: it is {task.status}; "
                    "only pending tasks can be canceled"
                )
            return await self._get(conn, principal, task_id)

    async def set_unique_id(
        self, principal: Principal, task_id: str, unique_id: str | None
    ) -> Task:
        async with self._db.write() as conn:
            try:
                async with conn.begin_nested():
                    await self._update_or_404(conn, principal, task_id, {"unique_id": unique_id})
            except sa.exc.IntegrityError as exc:
                other = await conn.scalar(
                    sa.select(tasks.c.id).where(*_scoped(principal), tasks.c.unique_id == unique_id)
                )
                raise DuplicateUniqueId(unique_id or "", other or "unknown") from exc
            return await self._get(conn, principal, task_id)

    async def set_metadata(
        self, principal: Principal, task_id: str, metadata: dict[str, JSON]
    ) -> Task:
        async with self._db.write() as conn:
            await self._update_or_404(conn, principal, task_id, {"metadata": metadata})
            return await self._get(conn, principal, task_id)

    async def change_tags(
        self, principal: Principal, task_id: str, *, mode: str, tags: Sequence[str], max_tags: int
    ) -> Task:
        """Set, add (ignoring present) or delete (ignoring absent) tags.

        Raises:
            Invalid: the result would have more than `max_tags` tags.
        """
        async with self._db.write() as conn:
            query = sa.select(tasks.c.tags).where(*_scoped(principal), tasks.c.id == task_id)
            if self._db.dialect == "postgresql":
                query = query.with_for_update()
            row = (await conn.execute(query)).first()
            if row is None:
                raise NotFound(f"Task {task_id} not found")
            current: list[str] = list(row[0] or [])
            if mode == "set":
                result = list(dict.fromkeys(tags))
            elif mode == "add":
                result = current + [t for t in dict.fromkeys(tags) if t not in current]
            else:
                result = [t for t in current if t not in set(tags)]
            if len(result) > max_tags:
                raise Invalid(
                    f"A task can have at most {max_tags} tags; this would give it {len(result)}"
                )
            await self._update_or_404(conn, principal, task_id, {"tags": result})
            return await self._get(conn, principal, task_id)

    async def audit(
        self, principal: Principal, task_id: str, *, result: ReviewResult, comments: str | None
    ) -> Task:
        """Record a customer review of a completed task; its review status follows."""
        async with self._db.write() as conn:
            changed = await self._update(
                conn,
                principal,
                task_id,
                {"customer_review_status": result.value},
                TaskStatus.COMPLETED,
            )
            if not changed:
                task = await self._get(conn, principal, task_id)
                raise IllegalTransition(
                    f"Task {task_id} cannot be audited: it is {task.status}; "
                    "only completed tasks can be audited"
                )
            await conn.execute(
                sa.insert(audits).values(
                    task_id=task_id,
                    audited_by=principal.owner,
                    audited_at=self._db.clock(),
                    audit_time_secs=None,
                    audit_result=result.value,
                    audit_source="customer",
                    comments=comments,
                )
            )
            return await self._get(conn, principal, task_id)

    async def _update(
        self,
        conn: AsyncConnection,
        principal: Principal,
        task_id: str,
        values: Mapping[str, Any],
        required_status: TaskStatus | None = None,
    ) -> bool:
        """A guarded update; False when no row matched (absent, or not in the status)."""
        stmt = (
            sa.update(tasks)
            .where(*_scoped(principal), tasks.c.id == task_id)
            .values(**values, updated_at=self._db.clock())
        )
        if required_status is not None:
            stmt = stmt.where(tasks.c.status == required_status.value)
        result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def _update_or_404(
        self, conn: AsyncConnection, principal: Principal, task_id: str, values: Mapping[str, Any]
    ) -> None:
        if not await self._update(conn, principal, task_id, values):
            raise NotFound(f"Task {task_id} not found")
