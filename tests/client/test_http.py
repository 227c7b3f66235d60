"""The client's HTTP layer: URLs, retry delays, and a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hookline.client.http import (
    ApiClient,
    ApiError,
    ClientError,
    Unreachable,
    after_token,
    base_url,
    basic_auth,
    describe_refusal,
    path_of,
    retry_delay_s,
)
from tests.client.conftest import FakeServer


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("http://127.0.0.1:8000", "http://127.0.0.1:8000", id="plain"),
        pytest.param("http://127.0.0.1:8000/", "http://127.0.0.1:8000", id="slash"),
        pytest.param("http://h:1/v1", "http://h:1", id="v1"),
        pytest.param("https://h/prefix/v1/", "https://h/prefix", id="prefix"),
        pytest.param(" http://[::1]:8000 ", "http://[::1]:8000", id="ipv6"),
    ],
)
def test_base_url_accepts_a_server_root_or_its_v1(raw: str, expected: str) -> None:
    """--url may name the root or the /v1 base that ScaleClient takes."""
    assert base_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["ftp://h", "127.0.0.1:8000", "http://", "http://h:port", "", "http://h:99999"]
)
def test_base_url_refuses_what_is_not_an_http_url(raw: str) -> None:
    """A URL that is not http(s)://HOST[:PORT] is a one-line error naming --url."""
    with pytest.raises(ClientError, match=r"--url/HOOKLINE_URL"):
        base_url(raw)


@pytest.mark.parametrize(
    ("attempt", "status", "retry_after", "delay_s"),
    [
        pytest.param(0, None, None, 0.2, id="first"),
        pytest.param(3, None, None, 1.6, id="doubling"),
        pytest.param(10, 503, None, 5.0, id="capped"),
        pytest.param(0, 429, "2", 2.0, id="retry-after"),
        pytest.param(0, 429, "0.5", 0.5, id="fractional"),
        pytest.param(0, 429, "3600", 30.0, id="clamped"),
        pytest.param(1, 429, "soon", 0.4, id="unreadable"),
        pytest.param(0, 429, "-3", 0.0, id="negative"),
    ],
)
def test_retry_delay(
    attempt: int, status: int | None, retry_after: str | None, delay_s: float
) -> None:
    """Back off 0.2 s doubling to 5 s; a 429's Retry-After wins, at most 30 s."""
    assert retry_delay_s(attempt, status=status, retry_after=retry_after) == pytest.approx(delay_s)


def test_refusals_name_the_fix() -> None:
    """A 401 says which option holds the key; a 403 says the scope is missing."""
    assert describe_refusal(401, "Invalid key") == "401: Invalid key; check --key/HOOKLINE_KEY"
    assert describe_refusal(403, "no") == "403: no; the key lacks the scope this needs"
    assert describe_refusal(404, "Task x not found") == "404: Task x not found"


def test_path_segments_are_encoded() -> None:
    """Types and ids from users cannot escape their path segment."""
    assert path_of("task", "a/b?c", "events") == "/v1/task/a%2Fb%3Fc/events"


async def _client(
    base: str, sleeps: list[float], **kwargs: Any
) -> tuple[aiohttp.ClientSession, ApiClient]:
    async def sleep(delay_s: float) -> None:
        sleeps.append(delay_s)

    session = aiohttp.ClientSession(headers={"Authorization": basic_auth("live_k")})
    return session, ApiClient(session, base, sleep=sleep, **kwargs)


async def test_a_429_is_retried_after_retry_after(fake: tuple[FakeServer, str]) -> None:
    """429 and 503 are retried (Retry-After honoured); the body and the auth go each time."""
    server, base = fake
    server.answers += [
        web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": "1.5"}),
        web.json_response({"error": "busy"}, status=503),
        web.json_response({"task_id": "t"}),
    ]
    sleeps: list[float] = []
    session, client = await _client(base, sleeps)
    async with session:
        answer = await client.call("POST", "/v1/task/echo", body={"a": 1}, params=[("x", "1")])
    assert (answer.status, answer.body) == (200, {"task_id": "t"})
    assert sleeps == [1.5, 0.4]
    assert [s["body"] for s in server.seen] == [b'{"a":1}'] * 3
    assert {s["auth"] for s in server.seen} == {basic_auth("live_k")}
    assert server.seen[0]["query"] == [("x", "1")]


async def test_retries_are_bounded(fake: tuple[FakeServer, str]) -> None:
    """After the last retry the 503 is the answer."""
    server, base = fake
    server.answers += [web.json_response({"error": "busy"}, status=503) for _ in range(3)]
    sleeps: list[float] = []
    session, client = await _client(base, sleeps, retries=2)
    async with session:
        with pytest.raises(ApiError) as raised:
            await client.get("/v1/tasks")
    assert raised.value.status == 503
    assert str(raised.value) == "503: busy"
    assert len(server.seen) == 3


async def test_a_refusal_is_an_api_error_with_the_servers_message(
    fake: tuple[FakeServer, str],
) -> None:
    """A 401 is not retried and says to check the key."""
    server, base = fake
    server.answers.append(
        web.json_response({"status_code": 401, "error": "Invalid or revoked API key"}, status=401)
    )
    session, client = await _client(base, [])
    async with session:
        with pytest.raises(
            ApiError, match=r"^401: Invalid or revoked API key; check --key/HOOKLINE_KEY$"
        ):
            await client.get("/v1/tasks")
    assert len(server.seen) == 1


async def test_a_text_answer_is_kept_as_text(fake: tuple[FakeServer, str]) -> None:
    """An answer that is not JSON (a proxy's error page) becomes the message."""
    server, base = fake
    server.answers.append(web.Response(text="Bad Gateway page", status=404))
    session, client = await _client(base, [])
    async with session:
        with pytest.raises(ApiError, match=r"^404: Bad Gateway page$"):
            await client.get("/v1/tasks")


async def test_no_server_is_unreachable_after_retries() -> None:
    """A refused connection is retried, then says which URL and asks whether hookline runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        sleeps: list[float] = []
        session, client = await _client(f"http://127.0.0.1:{port}", sleeps, retries=2)
        async with session:
            with pytest.raises(Unreachable) as raised:
                await client.get("/v1/tasks")
    assert str(raised.value) == (
        f"cannot reach http://127.0.0.1:{port}: connection refused; is hookline running?"
    )
    assert sleeps == [0.2, 0.4]


@pytest.mark.parametrize("last_id", [0, 1, 99, 2**63 - 1])
def test_after_token_is_the_servers(last_id: int) -> None:
    """The client's feed cursor is the token the server itself would issue."""
    from hookline.ingress.query import after_token as servers

    assert after_token(last_id) == servers(last_id)
