"""Rate limits of a real `hookline serve`: a wrong-key flood, and the official client on 429."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import scaleapi
from scaleapi.exceptions import ScaleTooManyRequests, ScaleUnauthorized

from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.e2e

StartServer = Callable[..., Server]


@pytest.fixture
def serve_with(e2e_env: dict[str, str], tmp_path: Path) -> Iterator[StartServer]:
    """`serve_with(**env)`: a `hookline serve` with extra HOOKLINE_* variables, stopped afterwards."""
    servers: list[Server] = []

    def start(**env: str) -> Server:
        server = start_server(tmp_path, e2e_env | env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def wrong_key() -> str:
    """A well-formed key that exists nowhere, so that the server has to look it up."""
    return f"live_{secrets.token_hex(22)}"


async def flood(base_url: str, n: int, concurrency: int) -> list[httpx.Response]:
    """N requests with distinct wrong keys from 127.0.0.1."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one() -> httpx.Response:
            async with limit:
                return await client.get("/v1/tasks", auth=(wrong_key(), ""))

        return await asyncio.gather(*(one() for _ in range(n)))


async def good_client(base_url: str, key: str, n: int) -> list[int]:
    """N reads with a valid key from 127.0.0.2, one after another; their statuses."""
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(
        base_url=base_url, transport=transport, auth=(key, ""), timeout=30
    ) as client:
        statuses = []
        for _ in range(n):
            statuses.append((await client.get("/v1/tasks", params={"limit": 1})).status_code)
            await asyncio.sleep(0.01)
        return statuses


def test_a_wrong_key_flood_is_answered_429_while_a_good_client_goes_on(
    serve_with: StartServer,
) -> None:
    """After 10 failures the flood gets 429 with Retry-After; another address is served throughout."""
    server = serve_with(HOOKLINE_RATE_LIMITS_FAILED_AUTH_PER_MINUTE="10")
    concurrency = 16

    async def both() -> tuple[list[httpx.Response], list[int]]:
        return await asyncio.gather(
            flood(server.base_url, 400, concurrency),
            good_client(server.base_url, server.live_key, 30),
        )

    flooded, good = asyncio.run(both())
    assert good == [200] * 30
    statuses = [r.status_code for r in flooded]
    assert set(statuses) <= {401, 429}
    # 10 failures open the block; requests already past the check when it closed may add some.
    assert 10 <= statuses.count(401) <= 10 + concurrency
    for response in flooded:
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1
            assert set(response.json()) == {"status_code", "error"}
            assert "rate_limits.failed_auth_per_minute" in response.json()["error"]


def test_the_official_client_raises_too_many_requests(serve_with: StartServer) -> None:
    """scaleapi raises ScaleTooManyRequests on either limit, with hookline's message."""
    server = serve_with(
        HOOKLINE_RATE_LIMITS_READ_PER_S="0.1",
        HOOKLINE_RATE_LIMITS_READ_BURST="2",
        HOOKLINE_RATE_LIMITS_FAILED_AUTH_PER_MINUTE="3",
    )
    scale = scaleapi.ScaleClient(server.live_key, api_instance_url=server.api_url)
    for _ in range(2):
        assert scale.list_teammates()
    with pytest.raises(ScaleTooManyRequests, match=r"rate_limits\.read_per_s"):
        scale.list_teammates()

    stranger = scaleapi.ScaleClient(wrong_key(), api_instance_url=server.api_url)
    for _ in range(3):
        with pytest.raises(ScaleUnauthorized):
            stranger.list_teammates()
    with pytest.raises(ScaleTooManyRequests, match="Too many failed authentications"):
        stranger.list_teammates()


def test_uvicorn_does_not_believe_x_forwarded_for_on_its_own(serve_with: StartServer) -> None:
    """With `trusted_proxies = []` a loopback peer's X-Forwarded-For changes nothing."""
    server = serve_with(
        HOOKLINE_RATE_LIMITS_TRUSTED_PROXIES="", HOOKLINE_RATE_LIMITS_FAILED_AUTH_PER_MINUTE="1"
    )
    with httpx.Client(base_url=server.base_url, auth=(wrong_key(), "")) as client:
        first = client.get("/v1/tasks", headers={"x-forwarded-for": "203.0.113.9"})
        second = client.get("/v1/tasks", headers={"x-forwarded-for": "203.0.113.10"})
    assert (first.status_code, second.status_code) == (401, 429)
    assert "from 127.0.0.1" in second.json()["error"]
