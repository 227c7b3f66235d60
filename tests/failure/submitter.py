"""Submit many tasks through several APIs at once and classify every answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx


@dataclass
class Outcomes:
    accepted: dict[str, str] = field(default_factory=dict)
    """unique_id → task_id, for every create answered 200 (or found by its unique_id)."""
    refused: set[str] = field(default_factory=set)
    """unique_ids answered with an error status: such a task must not exist."""
    unknown: set[str] = field(default_factory=set)
    """unique_ids whose create got no answer (the process died): settled by a retry."""


async def submit_all(
    bases: Sequence[str],
    key: str,
    *,
    count: int,
    callback_url: str,
    run: str,
    concurrency: int = 32,
    deadline_s: float = 240,
) -> Outcomes:
    """Create `count` echo tasks round-robin over `bases`; retry unknown outcomes until settled.

    A create that got no answer is sent again with the same unique_id: 200
    means it was not stored the first time, 409 that it was. Either way the
    task is accepted exactly once.
    """
    outcomes = Outcomes()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline_s
    async with httpx.AsyncClient(auth=(key, ""), timeout=10) as client:

        async def one(i: int, attempt: int) -> bool:
            unique_id = f"{run}-{i}"
            base = bases[(i + attempt) % len(bases)]
            body = {"n": i, "unique_id": unique_id, "callback_url": callback_url}
            try:
                response = await client.post(f"{base}/v1/task/echo", json=body)
            except httpx.HTTPError:
                outcomes.unknown.add(unique_id)
                return False
            if response.status_code == 200:
                outcomes.accepted[unique_id] = response.json()["task_id"]
            elif response.status_code == 409 and unique_id in outcomes.unknown:
                found = await client.get(f"{base}/v1/tasks", params={"unique_id": unique_id})
                outcomes.accepted[unique_id] = found.json()["docs"][0]["task_id"]
            elif response.status_code >= 500:
                outcomes.unknown.add(unique_id)  # e.g. 503 mid-commit: stored or not
                return False
            else:
                outcomes.refused.add(unique_id)
            outcomes.unknown.discard(unique_id)
            return True

        async def worker() -> None:
            while not queue.empty() and loop.time() < until:
                i = queue.get_nowait()
                for attempt in range(100):
                    if await one(i, attempt) or loop.time() > until:
                        break
                    await asyncio.sleep(0.2)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes
