"""The uvicorn server, owning sockets and signals; hookline decides how to exit.

uvicorn has no timeout on receiving a request: `timeout_keep_alive` covers only the
idle time between requests and every byte received re-arms it, so a client that
trickles its headers or body holds a connection for ever (uvicorn issue #157), and
ASGI middleware runs too late to help. `with_deadlines` wraps whichever HTTP protocol
class uvicorn picked (httptools or h11) with a deadline per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import orjson
import uvicorn


class Server(uvicorn.Server):
    """uvicorn's server, except that SIGTERM/SIGINT end `serve()` without re-raising,
    and that a request must arrive within `header_timeout_s` (line and headers) and
    `body_timeout_s` (body).

    uvicorn re-raises a captured signal after shutdown, which kills the process
    before its owner can close the store; here the owner finishes cleanly.
    `on_exit` runs on the first signal, so the dispatcher stops claiming at once.
    """

    on_exit: Callable[[], None] | None = None
    tick_s = 1.0
    """How often the main loop refreshes the Date header and checks the request limit."""
    _should_exit = False
    _exiting: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def __init__(
        self, config: uvicorn.Config, *, header_timeout_s: float, body_timeout_s: float
    ) -> None:
        super().__init__(config)
        if not config.loaded:
            config.load()
        config.http_protocol_class = with_deadlines(
            config.http_protocol_class,
            header_timeout_s=header_timeout_s,
            body_timeout_s=body_timeout_s,
        )

    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._should_exit = value
        if value and self._exiting is not None:
            loop, exiting = self._exiting
            loop.call_soon_threadsafe(exiting.set)  # from a signal handler too

    async def main_loop(self) -> None:
        """uvicorn's loop, but woken once a second (the Date header's resolution) rather
        than ten times, and at once when told to exit: an idle server's wake-ups were
        mostly this loop's."""
        exiting = asyncio.Event()
        self._exiting = (asyncio.get_running_loop(), exiting)
        counter = 0  # `on_tick` refreshes the Date header when it is a multiple of ten
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864_000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_s):
                    await exiting.wait()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self.on_exit is not None:
            self.on_exit()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _timeout_answer(what: str, setting: str, timeout_s: float) -> bytes:
    body = orjson.dumps(
        {
            "status_code": 408,
            "error": f"the request {what} did not arrive within {timeout_s:g} s "
            f"(server.{setting}); send the request at once",
        }
    )
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


class _Deadlines:
    """The deadline behaviour `with_deadlines` mixes into a uvicorn protocol class."""

    header_timeout_s: float
    body_timeout_s: float
    header_answer: bytes
    body_answer: bytes
    # The protocol's own attributes, as uvicorn's protocols define them.
    transport: Any
    cycle: Any
    loop: asyncio.AbstractEventLoop
    _deadline: asyncio.TimerHandle | None = None
    _deadline_for: str | None = None  # "headers" or "body"
    _received: Any = None  # the newest request fully received

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        self._follow(more_bytes=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._follow(more_bytes=False)  # pipelined requests may start here

    def _follow(self, *, more_bytes: bool) -> None:
        if self.transport.is_closing() or self.transport.get_protocol() is not self:
            self._disarm()  # closed, or upgraded to another protocol
            return
        cycle = self.cycle
        if cycle is None:
            self._arm("headers")  # the first request is still incomplete
        elif cycle.more_body:
            self._arm("body")
        elif cycle is not self._received:
            self._received = cycle
            self._disarm()
        elif more_bytes:
            self._arm("headers")  # bytes of the next request

    def _arm(self, phase: str) -> None:
        if self._deadline_for == phase:
            return  # the deadline runs from the phase's start, not from each byte
        self._disarm()
        delay = self.header_timeout_s if phase == "headers" else self.body_timeout_s
        self._deadline = self.loop.call_later(delay, self._expired)
        self._deadline_for = phase

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self._deadline_for = None

    def _expired(self) -> None:
        phase, self._deadline, self._deadline_for = self._deadline_for, None, None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if phase == "headers":
            if cycle is not None and not cycle.response_complete:
                # Bytes of a pipelined request arrived while this one is still
                # being answered: give the next one another header_timeout_s.
                self._arm("headers")
                return
            self.transport.write(self.header_answer)
        elif cycle is not None and not cycle.response_started:
            self.transport.write(self.body_answer)
        self.transport.close()


def with_deadlines(
    base: type[asyncio.Protocol], *, header_timeout_s: float, body_timeout_s: float
) -> type[asyncio.Protocol]:
    """`base` (uvicorn's httptools or h11 protocol), with a deadline on receiving each request.

    The header deadline is armed when the connection is made and when the first
    bytes of a further request arrive; the body deadline once a request's headers are
    complete and a body is still to come; both are disarmed once the request is
    complete. Both protocols keep the request being received as `self.cycle`
    (a new object per request, `more_body` false once the body is complete), which is
    all this relies on. On expiry the connection is closed, after a 408 in Scale's
    error shape unless an answer has already begun.
    """
    attributes = {
        "header_timeout_s": header_timeout_s,
        "body_timeout_s": body_timeout_s,
        "header_answer": _timeout_answer("line and headers", "header_timeout_s", header_timeout_s),
        "body_answer": _timeout_answer("body", "body_timeout_s", body_timeout_s),
    }
    name = f"Deadline{base.__name__}"
    return type(name, (_Deadlines, base), attributes | {"__qualname__": name})
