"""The one-hop SQLite cursor: same answers as the stock driver, one thread round trip each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hookline.store import sqlite_driver

pytestmark = pytest.mark.skipif(not sqlite_driver.usable(), reason="aiosqlite lacks _execute")

things = sa.Table(
    "things",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, unique=True, nullable=False),
)


@pytest.fixture(params=["one-hop", "stock"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    extra = {"module": sqlite_driver.dbapi()} if request.param == "one-hop" else {}
    made = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", **extra)
    async with made.begin() as conn:
        await conn.run_sync(things.metadata.create_all)
    yield made
    await made.dispose()


async def test_rows_counts_and_ids_match_the_stock_driver(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(sa.insert(things).values(name="a"))
        assert inserted.inserted_primary_key == (1,)
        many = await conn.execute(sa.insert(things), [{"name": "b"}, {"name": "c"}])
        assert many.rowcount == 2
        updated = await conn.execute(
            sa.update(things).where(things.c.name.in_(["a", "b"])).values(name=things.c.name + "!")
        )
        assert updated.rowcount == 2
        rows = (await conn.execute(sa.select(things.c.name).order_by(things.c.id))).all()
        assert [r.name for r in rows] == ["a!", "b!", "c"]
        returned = await conn.execute(
            sa.delete(things).where(things.c.name == "c").returning(things.c.id)
        )
        assert returned.scalars().all() == [3]
        assert (await conn.execute(sa.select(sa.func.count()).select_from(things))).scalar() == 2
        assert (await conn.execute(sa.select(things).where(things.c.id == 99))).first() is None


async def test_errors_are_the_dbapi_errors_sqlalchemy_expects(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(sa.insert(things).values(name="x"))
        with pytest.raises(sa.exc.IntegrityError):
            await conn.execute(sa.insert(things).values(name="x"))
        await conn.rollback()
        with pytest.raises(sa.exc.OperationalError):
            await conn.execute(sa.text("SELECT * FROM missing"))


async def test_a_statement_is_one_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", module=sqlite_driver.dbapi()
    )
    trips = 0
    execute = aiosqlite.Connection._execute

    async def counted(
        self: aiosqlite.Connection, fn: object, *args: object, **kw: object
    ) -> object:
        nonlocal trips
        trips += 1
        return await execute(self, fn, *args, **kw)

    try:
        async with made.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
            result = await conn.execute(sa.text("SELECT 1 UNION SELECT 2"))
            assert sorted(result.scalars()) == [1, 2]
            assert trips == 1
    finally:
        await made.dispose()
