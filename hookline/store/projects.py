"""Projects: a task type's named defaults, with every version of their params kept."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hookline.errors import Invalid
from hookline.models import JSON, Batch, ParamVersion, Principal, Project
from hookline.projects import first_param_version, next_param_version
from hookline.store.base import Database
from hookline.store.batches import batch_from_row
from hookline.store.rows import (
    all_rows,
    by_name,
    first_row,
    found,
    in_scope,
    insert_named,
    inserted,
)
from hookline.store.tables import batches, projects


def project_from_row(row: sa.RowMapping) -> Project:
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


class ProjectStore:
    """Use cases: create, read and list projects, set a project's params (a new version),
    and read the project and batch a new task names."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_project(
        self, principal: Principal, *, name: str, type: str, params: dict[str, JSON]
    ) -> Project:
        now = self._db.clock()
        stmt = insert_named(
            projects,
            principal,
            self._db.dialect,
            name=name,
            type=type,
            param_history=[first_param_version(params, now=now)],
            created_at=now,
        )
        async with self._db.write() as conn:
            row = await first_row(conn, stmt)
        return project_from_row(inserted(row, f'A project named "{name}" already exists'))

    async def get_project(self, principal: Principal, name: str) -> Project:
        missing = f'Project "{name}" not found'
        async with self._db.read() as conn:
            return project_from_row(found(await by_name(conn, projects, principal, name), missing))

    async def list_projects(self, principal: Principal) -> list[Project]:
        query = sa.select(projects).where(*in_scope(projects, principal)).order_by(projects.c.id)
        async with self._db.read() as conn:
            rows = await all_rows(conn, query)
        return [project_from_row(row) for row in rows]

    async def set_project_params(
        self, principal: Principal, name: str, params: dict[str, JSON]
    ) -> Project:
        """Merge `params` over the current version into a new one; the history keeps them all."""
        async with self._db.write() as conn:
            row = found(
                await by_name(conn, projects, principal, name, lock=True),
                f'Project "{name}" not found',
            )
            history = list(row["param_history"])
            history.append(next_param_version(history, params, now=self._db.clock()))
            stmt = (
                sa.update(projects)
                .where(projects.c.id == row["id"])
                .values(param_history=history)
                .returning(*projects.c)
            )
            row = (await conn.execute(stmt)).mappings().one()
        return project_from_row(row)

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
                row = await by_name(conn, batches, principal, batch)
                if row is None:
                    raise Invalid(
                        f'Batch "{batch}" does not exist; create it with POST /v1/batches'
                    )
                found_batch = batch_from_row(row)
                project = project or found_batch.project
            if project is not None:
                row = await by_name(conn, projects, principal, project)
                if row is None:
                    raise Invalid(
                        f'Project "{project}" does not exist; create it with POST /v1/projects'
                    )
                found_project = project_from_row(row)
        return found_project, found_batch
