"""Request deadlines of the server: real sockets against a real uvicorn, h11 and httptools."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from hookline.server import Server

HEADER_TIMEOUT_S = 0.5
BODY_TIMEOUT_S = 1.0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, sleeps on /slow, and answers the client's port and body size."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(HEADER_TIMEOUT_S * 3)
    body = json.dumps({"port": scope["client"][1], "size": size}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=["h11", "httptools"])
async def base_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A running server with short deadlines, on the HTTP implementation of the param."""
    config = uvicorn.Config(app, http=request.param, log_config=None, lifespan="off")
    server = Server(config, header_timeout_s=HEADER_TIMEOUT_S, body_timeout_s=BODY_TIMEOUT_S)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(url)).status_code == 200  # answered once it serves
    yield url
    server.should_exit = True
    async with asyncio.timeout(10):
        await serving


async def connect(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = base_url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.read()
    except ConnectionResetError:
        return b""


async def trickle(writer: asyncio.StreamWriter, data: bytes, gap_s: float) -> None:
    """Send one byte per gap until done or the server hangs up."""
    try:
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(gap_s)
    except ConnectionError:
        return


async def test_incomplete_headers_are_answered_408_and_closed(base_url: str) -> None:
    """Headers that stop half-way are answered 408 in JSON after header_timeout_s."""
    reader, writer = await connect(base_url)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(HEADER_TIMEOUT_S + 3):
        answer = await read_until_closed(reader)
    elapsed_s = loop.time() - started
    writer.close()
    assert HEADER_TIMEOUT_S * 0.8 < elapsed_s < HEADER_TIMEOUT_S + 1
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert json.loads(body) == {
        "status_code": 408,
        "error": "the request line and headers did not arrive within 0.5 s "
        "(server.header_timeout_s); send the request at once",
    }


async def test_a_connection_that_sends_nothing_is_closed(base_url: str) -> None:
    """A connection that never sends a byte is closed after header_timeout_s."""
    reader, writer = await connect(base_url)
    async with asyncio.timeout(HEADER_TIMEOUT_S + 3):
        answer = await read_until_closed(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")


async def test_trickled_headers_are_cut_off_while_a_normal_client_works(base_url: str) -> None:
    """A client trickling header bytes is disconnected; another is answered meanwhile."""
    reader, writer = await connect(base_url)
    loop = asyncio.get_running_loop()
    started = loop.time()
    sending = asyncio.create_task(
        trickle(writer, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: 1\r\n" * 100, 0.05)
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        for _ in range(3):
            assert (await client.get("/")).status_code == 200
    async with asyncio.timeout(HEADER_TIMEOUT_S + 3):
        await read_until_closed(reader)
        await sending
    writer.close()
    assert loop.time() - started < HEADER_TIMEOUT_S + 1.5


async def test_a_slow_body_is_cut_off(base_url: str) -> None:
    """A body still incomplete body_timeout_s after the headers ends the connection with 408."""
    reader, writer = await connect(base_url)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    sending = asyncio.create_task(trickle(writer, b"x" * 200, 0.2))
    async with asyncio.timeout(BODY_TIMEOUT_S + 3):
        answer = await read_until_closed(reader)
        await sending
    writer.close()
    assert BODY_TIMEOUT_S * 0.8 < loop.time() - started < BODY_TIMEOUT_S + 1.5
    if answer:  # the 408 may be lost to a reset while the client still sends
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"server.body_timeout_s" in answer


async def test_keep_alive_requests_with_pauses_and_slow_answers_are_unaffected(
    base_url: str,
) -> None:
    """One kept-alive connection pausing past the deadlines between requests, with a body and
    a slow answer, gets every answer."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        ports = set()
        for path in ("/", "/slow", "/"):
            got = await client.post(path, content=b"y" * 5000)
            assert got.status_code == 200
            assert got.json()["size"] == 5000
            ports.add(got.json()["port"])
            await asyncio.sleep(BODY_TIMEOUT_S * 1.5)
        assert len(ports) == 1  # the same connection throughout


async def test_pipelined_requests_are_all_answered(base_url: str) -> None:
    """Three requests sent in one write, one of them slow, get three answers in order."""
    reader, writer = await connect(base_url)
    request = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
    writer.write(request % b"/" + request % b"/slow" + request % b"/")
    answers = []
    async with asyncio.timeout(10):
        for _ in range(3):
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 ")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            answers.append(json.loads(await reader.readexactly(length)))
    writer.close()
    assert [a["size"] for a in answers] == [0, 0, 0]


async def test_the_main_loop_exits_at_once_when_told_and_keeps_the_date_fresh() -> None:
    """The loop waits `tick_s` between ticks, but a signal (here: another thread setting
    should_exit, as uvicorn's handler does) ends the wait at once; each tick refreshes
    the Date header."""
    config = uvicorn.Config(app, log_config=None, lifespan="off")
    server = Server(config, header_timeout_s=HEADER_TIMEOUT_S, body_timeout_s=BODY_TIMEOUT_S)
    server.tick_s = 60.0  # without the wake-up, exiting would take a minute
    ticks: list[int] = []
    ticked = asyncio.Event()
    on_tick = server.on_tick

    async def counted(counter: int) -> bool:
        ticks.append(counter)
        ticked.set()
        return await on_tick(counter)

    server.on_tick = counted  # type: ignore[method-assign]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        await ticked.wait()
    assert ticks == [0]  # the first tick: the Date header is set
    assert any(name == b"date" for name, _ in server.server_state.default_headers)
    await asyncio.to_thread(setattr, server, "should_exit", True)
    async with asyncio.timeout(10):
        await serving
    assert ticks == [0, 10]  # woken, it ticked once more and saw it should exit
