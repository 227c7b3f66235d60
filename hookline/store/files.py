"""Files: what was uploaded or imported, and where its bytes are kept."""

from __future__ import annotations

import sqlalchemy as sa

from hookline.models import Principal, StoredFile
from hookline.store.base import Database
from hookline.store.rows import first_row, found, from_row, in_scope
from hookline.store.tables import files


def file_from_row(row: sa.RowMapping) -> StoredFile:
    return from_row(StoredFile, row)


class FileStore:
    """Use cases: pick a new file's id, record a file, read one."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
            "id": file_id or self._db.ids(now),
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
            stmt = sa.insert(files).values(values).returning(*files.c)
            row = (await conn.execute(stmt)).mappings().one()
        return file_from_row(row)

    def new_file_id(self) -> str:
        return self._db.ids(self._db.clock())

    async def get_file(self, principal: Principal, file_id: str) -> StoredFile:
        query = sa.select(files).where(*in_scope(files, principal), files.c.id == file_id)
        async with self._db.read() as conn:
            row = await first_row(conn, query)
        return file_from_row(found(row, f"File {file_id} not found"))
