"""Helpers of the dashboard tests: signing in through the login form, reading forms back."""

from __future__ import annotations

import re

import httpx

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the first form on `page`."""
    found = _CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    """Post `key` to the login form as a browser would (form token and its cookie)."""
    form = await client.get("/ui/login")
    assert form.status_code == 200, form.text
    return await client.post("/ui/login", data={"csrf": csrf_of(form), "key": key})


async def signed_in_client(client: httpx.AsyncClient, key: str) -> httpx.AsyncClient:
    """`client`, signed in to the dashboard with `key`."""
    answer = await sign_in(client, key)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/ui/"
    return client
