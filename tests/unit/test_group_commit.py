from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from hookline.store.group_commit import GroupCommit


class Recorder:
    """A batch writer that records the batches it saw and fails items named 'bad'."""

    def __init__(self, *, delay_s: float = 0.0, crash: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.delay_s = delay_s
        self.crash = crash
        self.writing = asyncio.Event()
        """Set once a batch is in flight."""

    async def __call__(self, items: Sequence[str]) -> list[str | BaseException]:
        self.batches.append(list(items))
        self.writing.set()
        await asyncio.sleep(self.delay_s)
        if self.crash:
            raise RuntimeError("database gone")
        return [ValueError(item) if item == "bad" else item.upper() for item in items]


async def test_lone_item_is_written_at_once() -> None:
    """A single submit is written in a batch of one."""
    writer = Recorder()
    assert await GroupCommit(writer).submit("a") == "A"
    assert writer.batches == [["a"]]


async def test_concurrent_items_share_a_batch() -> None:
    """Items submitted while a batch is in flight are written together next."""
    writer = Recorder(delay_s=0.01)
    group = GroupCommit(writer)
    first = asyncio.create_task(group.submit("a"))
    await asyncio.wait_for(writer.writing.wait(), 5)
    rest = [asyncio.create_task(group.submit(x)) for x in "bcd"]
    assert await asyncio.gather(first, *rest) == ["A", "B", "C", "D"]
    assert writer.batches == [["a"], ["b", "c", "d"]]


async def test_batches_are_capped() -> None:
    """No batch holds more than max_batch items."""
    writer = Recorder()
    group = GroupCommit(writer, max_batch=2)
    results = await asyncio.gather(*(group.submit(x) for x in "abcde"))
    assert results == list("ABCDE")
    assert writer.batches == [["a", "b"], ["c", "d"], ["e"]]


async def test_one_failed_item_fails_alone() -> None:
    """An exception answered for one item reaches only its caller."""
    group = GroupCommit(Recorder())
    results = await asyncio.gather(
        group.submit("a"), group.submit("bad"), group.submit("c"), return_exceptions=True
    )
    assert results[0] == "A"
    assert isinstance(results[1], ValueError)
    assert results[2] == "C"


async def test_a_crashed_batch_fails_every_caller_and_the_next_batch_runs() -> None:
    """When the writer raises, its batch's callers get the error; later submits still work."""
    writer = Recorder(crash=True)
    group = GroupCommit(writer)
    with pytest.raises(RuntimeError, match="database gone"):
        await group.submit("a")
    writer.crash = False
    assert await group.submit("b") == "B"


async def test_a_cancelled_caller_does_not_break_the_batch() -> None:
    """A caller that goes away leaves the others' results intact."""
    writer = Recorder(delay_s=0.01)
    group = GroupCommit(writer)
    gone = asyncio.create_task(group.submit("a"))
    stays = asyncio.create_task(group.submit("b"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await stays == "B"
    assert writer.batches == [["a", "b"]]
