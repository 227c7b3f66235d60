"""`submit()` in-process against a fake server: failures, fatal refusals, concurrency."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from hookline.client.http import ApiClient, ApiError
from hookline.client.lines import Kind, Summary
from hookline.client.submit import Run, numbered, submit
from tests.client.conftest import FakeServer


class Recorder:
    def __init__(self) -> None:
        self.advanced = 0
        self.closed: Summary | None = None

    def advance(self, summary: Summary) -> None:
        self.advanced += 1

    def close(self, summary: Summary) -> None:
        self.closed = summary


async def _no_sleep(delay_s: float) -> None:
    await asyncio.sleep(0)


def _lines(*raw: bytes) -> list[bytes]:
    return [line + b"\n" for line in raw]


async def test_server_errors_fail_their_lines_and_the_run_goes_on(
    fake: tuple[FakeServer, str],
) -> None:
    """A 500 after the retries fails that line only; the next lines are still sent."""
    server, base = fake
    server.answers += [web.json_response({"error": "boom"}, status=500)]
    server.answers += [web.json_response({"task_id": "t2"})]
    reporter = Recorder()
    async with aiohttp.ClientSession() as session:
        client = ApiClient(session, base, sleep=_no_sleep)
        result = await submit(
            client,
            Run(task_type="echo", concurrency=1),
            numbered(_lines(b'{"unique_id": "a"}', b'{"unique_id": "b"}')),
            reporter,
        )
    assert result.summary.counts[Kind.FAILED] == 1
    assert result.summary.counts[Kind.CREATED] == 1
    assert result.summary.report()[1] == "line 1: failed: 500: boom"
    assert result.fatal is None
    assert (reporter.advanced, reporter.closed) == (2, result.summary)
    assert [s["path"] for s in server.seen] == ["/v1/task/echo"] * 2


async def test_a_refused_key_stops_the_run_at_the_first_answer(
    fake: tuple[FakeServer, str],
) -> None:
    """A 401 is the same for every line: the run stops, and that line is not counted."""
    server, base = fake
    server.answers.append(web.json_response({"error": "Invalid or revoked API key"}, status=401))
    async with aiohttp.ClientSession() as session:
        result = await submit(
            ApiClient(session, base, sleep=_no_sleep),
            Run(task_type="echo", concurrency=1),
            numbered(_lines(b"{}", b"{}", b"{}")),
            Recorder(),
        )
    assert result.fatal == str(ApiError(401, "Invalid or revoked API key"))
    assert result.summary.done == 0
    assert len(server.seen) == 1


async def test_concurrency_bounds_the_requests_in_flight(fake: tuple[FakeServer, str]) -> None:
    """No more than `concurrency` creates are outstanding at once."""
    server, base = fake
    in_flight, peak = 0, 0
    handle = server.handle

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return await handle(request)

    server.handle = slow  # type: ignore[method-assign]
    server.answers += [web.json_response({"task_id": str(i)}) for i in range(20)]
    async with aiohttp.ClientSession() as session:
        result = await submit(
            ApiClient(session, base),
            Run(task_type="echo", concurrency=3),
            numbered(_lines(*(b'{"n": %d}' % i for i in range(20)))),
            Recorder(),
        )
    assert result.summary.counts[Kind.CREATED] == 20
    assert peak == 3
