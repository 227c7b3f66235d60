"""Concurrent creates: the database, not a check-then-insert, enforces unique_id."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx

from tests.api.support import list_tasks


async def test_concurrent_creates_with_one_unique_id_make_one_task(
    api: httpx.AsyncClient,
) -> None:
    """50 concurrent creates with one unique_id give one 200, 49 x 409 and one task."""
    responses = await asyncio.gather(
        *(api.post("/v1/task/echo", json={"unique_id": "race", "n": n}) for n in range(50))
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 49}
    winner = next(r.json() for r in responses if r.status_code == 200)
    expected = f'The unique_id ("race") is already used for a different task ({winner["task_id"]}).'
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {expected}
    answer = await list_tasks(api, unique_id="race")
    assert answer["total"] == 1
    assert [doc["task_id"] for doc in answer["docs"]] == [winner["task_id"]]
    assert (await list_tasks(api))["total"] == 1


async def test_concurrent_creates_with_distinct_unique_ids_all_succeed(
    api: httpx.AsyncClient,
) -> None:
    """Concurrent creates with distinct unique_ids all succeed with distinct ids."""
    responses = await asyncio.gather(
        *(api.post("/v1/task/echo", json={"unique_id": f"own-{n}"}) for n in range(30))
    )
    assert [r.status_code for r in responses] == [200] * 30
    task_ids = {r.json()["task_id"] for r in responses}
    assert len(task_ids) == 30
    assert all(re.fullmatch(r"[0-9a-f]{24}", t) for t in task_ids)
    assert (await list_tasks(api))["total"] == 30
