"""Helpers shared by the API tests: creating tasks and reading answers."""

from __future__ import annotations

from typing import Any

import httpx


def error_of(response: httpx.Response, status_code: int) -> str:
    """Assert `response` is an error in Scale's shape with `status_code`; its message."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert set(body) == {"status_code", "error"}, body
    assert body["status_code"] == status_code
    assert isinstance(body["error"], str)
    assert body["error"]
    return str(body["error"])


def ok(response: httpx.Response) -> Any:
    """Assert `response` is a 200 and return its JSON body."""
    assert response.status_code == 200, response.text
    return response.json()


async def create_task(client: httpx.AsyncClient, task_type: str = "echo", **body: Any) -> Any:
    """Create a task through the API and return the task object."""
    return ok(await client.post(f"/v1/task/{task_type}", json=body))


async def list_tasks(client: httpx.AsyncClient, **params: Any) -> Any:
    """`GET /v1/tasks` with `params` (lists become repeated keys); the answer."""
    return ok(await client.get("/v1/tasks", params=params))


async def total(client: httpx.AsyncClient, **params: Any) -> int:
    """How many tasks `GET /v1/tasks` counts for the filter."""
    answer = await list_tasks(client, **params)
    return int(answer["total"])


async def ids(client: httpx.AsyncClient, **params: Any) -> set[str]:
    """The ids of every task on the first page for the filter."""
    answer = await list_tasks(client, **params)
    return {doc["task_id"] for doc in answer["docs"]}
