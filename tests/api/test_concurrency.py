"""Concurrent creates: the database, not a check-then-insert, enforces unique_id."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import httpx

from tests.api.support import ids, list_tasks, ok, total
from tests.conftest import Account, AccountFactory, ClientFactory


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


async def test_concurrent_duplicates_are_judged_per_account_and_environment(
    api: httpx.AsyncClient,
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """Concurrent creates sharing a unique_id across scopes give one winner per scope."""
    clients = {
        "live": api,
        "test": client_factory(account.test_key),
        "other": client_factory((await account_factory()).live_key),
    }
    names = [name for name in clients for _ in range(8)]
    responses = await asyncio.gather(
        *(clients[name].post("/v1/task/echo", json={"unique_id": "same"}) for name in names)
    )
    for name, client in clients.items():
        mine = [r for n, r in zip(names, responses, strict=True) if n == name]
        assert Counter(r.status_code for r in mine) == {200: 1, 409: 7}, name
        winner = next(r.json()["task_id"] for r in mine if r.status_code == 200)
        messages = {r.json()["error"] for r in mine if r.status_code == 409}
        assert messages == {
            f'The unique_id ("same") is already used for a different task ({winner}).'
        }
        assert await ids(client, unique_id="same") == {winner}


async def test_concurrent_creates_answer_each_caller_its_own_task(
    api: httpx.AsyncClient,
) -> None:
    """Concurrent creates each answer the task made from their own body."""
    responses = await asyncio.gather(
        *(api.post("/v1/task/echo", json={"n": n, "metadata": {"n": n}}) for n in range(40))
    )
    for n, response in enumerate(responses):
        task = ok(response)
        assert task["params"] == {"n": n}
        assert task["metadata"] == {"n": n}
        assert ok(await api.get(f"/v1/task/{task['task_id']}")) == task


async def test_a_failing_create_does_not_fail_its_neighbours(api: httpx.AsyncClient) -> None:
    """A create the database refuses does not take the concurrent creates with it."""
    # PostgreSQL refuses U+0000 in JSONB; SQLite stores it. Either way the others succeed.
    bodies: list[dict[str, object]] = [{"n": n} for n in range(20)]
    bodies[7] = {"n": 7, "text": "a\u0000b"}
    outcomes = await asyncio.gather(
        *(api.post("/v1/task/echo", json=body) for body in bodies), return_exceptions=True
    )
    others = [o for i, o in enumerate(outcomes) if i != 7]
    assert all(isinstance(o, httpx.Response) and o.status_code == 200 for o in others)
    stored = await total(api)
    assert stored in (19, 20)
