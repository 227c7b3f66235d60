from __future__ import annotations

import pytest

from hookline.store import Store
from hookline.store.base import after_commit


async def test_hooks_run_once_after_the_commit(store: Store) -> None:
    """A wake-up given inside a transaction fires after it commits, once however often given."""
    calls: list[str] = []

    def wake() -> None:
        calls.append("wake")

    async with store.db.write() as conn:
        after_commit(conn, wake)
        after_commit(conn, wake)
        assert calls == []
    assert calls == ["wake"]


async def test_hooks_do_not_run_when_the_transaction_rolls_back(store: Store) -> None:
    """A loop must not be woken for rows that were never committed."""
    calls: list[str] = []

    async def write_then_fail() -> None:
        async with store.db.write() as conn:
            after_commit(conn, lambda: calls.append("wake"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    async with store.db.write():
        pass  # a later transaction on the same pooled connection does not fire it either
    assert calls == []
