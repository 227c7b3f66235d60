"""Projects, batches and files: the things tasks refer to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.errors import DuplicateName, Invalid, NotFound
from hookline.ids import new_object_id
from hookline.models import (
    JSON,
    Batch,
    BatchStatus,
    Environment,
    ParamVersion,
    Principal,
    Project,
    StoredFile,
    TaskStatus,
)
from hookline.store.base import Database
from hookline.store.deliveries import complete_batch_if_done
from hookline.store.dialect import insert
from hookline.store.tables import batches, files, projects, tasks


def _project(row: sa.RowMapping) -> Project:
    history = tuple(
        ParamVersion(
            version=entry["version"],
            created_at=datetime.fromisoformat(entry["created_at"]),
            params=entry["params"],
        )
        for entry in row["param_history"]
    )
    return Project(
        name=row["name"],
        type=row["type"],
        params=history[-1].params if history else {},
        param_history=history,
        created_at=row["created_at"],
    )


def _batch(row: sa.RowMapping) -> Batch:
    return Batch(
        name=row["name"],
        project=row["project"],
        status=BatchStatus(row["status"]),
        callback=row["callback"],
        metadata=row["metadata"],
        calibration_batch=row["calibration_batch"],
        self_label_batch=row["self_label_batch"],
        created_at=row["created_at"],
        finalized_at=row["finalized_at"],
    )


def _file(row: sa.RowMapping) -> StoredFile:
    return StoredFile(
        id=row["id"],
        filename=row["filename"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        source_url=row["source_url"],
        storage_path=row["storage_path"],
        created_at=row["created_at"],
    )


def _in_scope(table: sa.Table, principal: Principal) -> list[sa.ColumnElement[bool]]:
    return [
        table.c.account_id == principal.account_id,
        table.c.environment == principal.environment.value,
    ]


async def _by_name(
    conn: AsyncConnection, table: sa.Table, principal: Principal, name: str, *, lock: bool = False
) -> sa.RowMapping | None:
    """The row of `table` called `name` in the principal's scope (locked for update on request)."""
    query = sa.select(table).where(*_in_scope(table, principal), table.c.name == name)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await conn.execute(query)).mappings().first()


class CatalogStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # Projects

    async def create_project(
        self, principal: Principal, *, name: str, type: str, params: dict[str, JSON]
    ) -> Project:
        now = self._db.clock()
        history = [{"version": 0, "created_at": now.isoformat(), "params": params}]
        stmt = (
            insert(projects, self._db.dialect)
            .values(
                account_id=principal.account_id,
                environment=principal.environment.value,
                name=name,
                type=type,
                param_history=history,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "environment", "name"])
            .returning(*projects.c)
        )
        async with self._db.write() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise DuplicateName(f'A project named "{name}" already exists')
        return _project(row)

    async def get_project(self, principal: Principal, name: str) -> Project:
        async with self._db.read() as conn:
            row = await _by_name(conn, projects, principal, name)
        if row is None:
            raise NotFound(f'Project "{name}" not found')
        return _project(row)

    async def list_projects(self, principal: Principal) -> list[Project]:
        query = sa.select(projects).where(*_in_scope(projects, principal)).order_by(projects.c.id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_project(row) for row in rows]

    async def set_project_params(
        self, principal: Principal, name: str, params: dict[str, JSON]
    ) -> Project:
        """Merge `params` over the current version into a new one; the history keeps them all."""
        async with self._db.write() as conn:
            row = await _by_name(conn, projects, principal, name, lock=True)
            if row is None:
                raise NotFound(f'Project "{name}" not found')
            history = list(row["param_history"])
            current: dict[str, Any] = history[-1] if history else {"version": -1, "params": {}}
            history.append(
                {
                    "version": current["version"] + 1,
                    "created_at": self._db.clock().isoformat(),
                    "params": {**current["params"], **params},
                }
            )
            row = (
                (
                    await conn.execute(
                        sa.update(projects)
                        .where(projects.c.id == row["id"])
                        .values(param_history=history)
                        .returning(*projects.c)
                    )
                )
                .mappings()
                .one()
            )
        return _project(row)

    async def task_context(
        self, principal: Principal, *, project: str | None, batch: str | None
    ) -> tuple[Project | None, Batch | None]:
        """The project and batch a new task names, read together.

        Raises:
            Invalid: a named project or batch does not exist.
        """
        found_project = found_batch = None
        async with self._db.read() as conn:
            if batch is not None:
                row = await _by_name(conn, batches, principal, batch)
                if row is None:
                    raise Invalid(
                        f'Batch "{batch}" does not exist; create it with POST /v1/batches'
                    )
                found_batch = _batch(row)
                project = project or found_batch.project
            if project is not None:
                row = await _by_name(conn, projects, principal, project)
                if row is None:
                    raise Invalid(
                        f'Project "{project}" does not exist; create it with POST /v1/projects'
                    )
                found_project = _project(row)
        return found_project, found_batch

    # Batches

    async def create_batch(
        self,
        principal: Principal,
        *,
        name: str,
        project: str,
        callback: str | None,
        metadata: dict[str, JSON],
        calibration_batch: bool,
        self_label_batch: bool,
    ) -> Batch:
        # Scale's test environment starts batches in progress; live ones are staged.
        status = (
            BatchStatus.IN_PROGRESS
            if principal.environment is Environment.TEST
            else BatchStatus.STAGING
        )
        stmt = (
            insert(batches, self._db.dialect)
            .values(
                account_id=principal.account_id,
                environment=principal.environment.value,
                name=name,
                project=project,
                status=status.value,
                callback=callback,
                metadata=metadata,
                calibration_batch=calibration_batch,
                self_label_batch=self_label_batch,
                created_at=self._db.clock(),
            )
            .on_conflict_do_nothing(index_elements=["account_id", "environment", "name"])
            .returning(*batches.c)
        )
        async with self._db.write() as conn:
            if await _by_name(conn, projects, principal, project) is None:
                raise Invalid(f'Project "{project}" does not exist; create it first')
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            raise DuplicateName(f'A batch named "{name}" already exists')
        return _batch(row)

    async def get_batch(self, principal: Principal, name: str) -> Batch:
        async with self._db.read() as conn:
            row = await _by_name(conn, batches, principal, name)
        if row is None:
            raise NotFound(f'Batch "{name}" not found')
        return _batch(row)

    async def list_batches(
        self,
        principal: Principal,
        *,
        project: str | None,
        status: BatchStatus | None,
        created_after: datetime | None,
        created_before: datetime | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Batch], int]:
        """A page of batches, oldest first, and the total for the filter."""
        conditions = _in_scope(batches, principal)
        if project is not None:
            conditions.append(batches.c.project == project)
        if status is not None:
            conditions.append(batches.c.status == status.value)
        if created_after is not None:
            conditions.append(batches.c.created_at >= created_after)
        if created_before is not None:
            conditions.append(batches.c.created_at <= created_before)
        query = (
            sa.select(batches).where(*conditions).order_by(batches.c.id).limit(limit).offset(offset)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
            total = await conn.scalar(
                sa.select(sa.func.count()).select_from(batches).where(*conditions)
            )
        return [_batch(row) for row in rows], total or 0

    async def finalize_batch(self, principal: Principal, name: str) -> Batch:
        """staging → in_progress; finalizing again changes nothing.

        A finalized batch with no pending task is completed at once (and its
        callback, if it has a URL, is sent through the outbox).
        """
        async with self._db.write() as conn:
            finalized = await conn.execute(
                sa.update(batches)
                .where(
                    *_in_scope(batches, principal),
                    batches.c.name == name,
                    batches.c.finalized_at.is_(None),
                    batches.c.status.in_(
                        [BatchStatus.STAGING.value, BatchStatus.IN_PROGRESS.value]
                    ),
                )
                .values(status=BatchStatus.IN_PROGRESS.value, finalized_at=self._db.clock())
            )
            if finalized.rowcount:
                await complete_batch_if_done(
                    self._db, conn, principal.account_id, principal.environment.value, name
                )
        return await self.get_batch(principal, name)

    async def set_batch_metadata(
        self, principal: Principal, name: str, metadata: dict[str, JSON]
    ) -> Batch:
        async with self._db.write() as conn:
            row = (
                (
                    await conn.execute(
                        sa.update(batches)
                        .where(*_in_scope(batches, principal), batches.c.name == name)
                        .values(metadata=metadata)
                        .returning(*batches.c)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f'Batch "{name}" not found')
        return _batch(row)

    async def batch_counts(self, principal: Principal, name: str) -> tuple[Batch, dict[str, int]]:
        """The batch and how many of its tasks are in each status."""
        batch = await self.get_batch(principal, name)
        query = (
            sa.select(tasks.c.status, sa.func.count())
            .where(*_in_scope(tasks, principal), tasks.c.batch == name)
            .group_by(tasks.c.status)
        )
        async with self._db.read() as conn:
            counts: dict[str, int] = dict((await conn.execute(query)).all())
        return batch, {s.value: counts.get(s.value, 0) for s in TaskStatus}

    # Files

    async def add_file(
        self,
        principal: Principal,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        size_bytes: int | None = None,
        sha256: str | None = None,
        source_url: str | None = None,
        storage_path: str | None = None,
        file_id: str | None = None,
    ) -> StoredFile:
        now = self._db.clock()
        values = {
            "id": file_id or new_object_id(now, self._db.random_bytes),
            "account_id": principal.account_id,
            "environment": principal.environment.value,
            "filename": filename,
            "content_type": content_type,
            "size_bytes": size_bytes,
            "sha256": sha256,
            "source_url": source_url,
            "storage_path": storage_path,
            "created_at": now,
        }
        async with self._db.write() as conn:
            row = (
                (await conn.execute(sa.insert(files).values(values).returning(*files.c)))
                .mappings()
                .one()
            )
        return _file(row)

    def new_file_id(self) -> str:
        return new_object_id(self._db.clock(), self._db.random_bytes)

    async def get_file(self, principal: Principal, file_id: str) -> StoredFile:
        async with self._db.read() as conn:
            row = (
                (
                    await conn.execute(
                        sa.select(files).where(*_in_scope(files, principal), files.c.id == file_id)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"File {file_id} not found")
        return _file(row)
