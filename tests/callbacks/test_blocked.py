"""The sender's guard against a real listener on 127.0.0.1: refused hosts get not one connection.

Tasks are created through the store, as rows written before the API refused
such URLs would be; the sender alone must keep them off the listener, whatever
the installed aiohttp does with numeric hosts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest

from hookline.callbacks import CallbackSender, callback_session
from hookline.config import CallbacksSettings
from hookline.models import Delivery
from hookline.store import Store
from tests.conftest import Account, new_task

GUARDED = CallbacksSettings(schedule_s=(0, 0.2), timeout_s=1, poll_s=0.05, lease_s=10)
LOOPBACK_ALLOWED = dataclasses.replace(GUARDED, allow_networks=("127.0.0.0/8", "::1/128"))

NUMERIC_FORMS = [
    pytest.param("2130706433", id="decimal"),
    pytest.param("017700000001", id="octal-whole"),
    pytest.param("0x7f000001", id="hex-whole"),
    pytest.param("127.1", id="short-two-parts"),
    pytest.param("127.0.1", id="short-three-parts"),
    pytest.param("0177.0.0.1", id="octal-part"),
    pytest.param("0x7f.1", id="hex-part"),
    pytest.param("127.0.0.1.", id="trailing-dot"),
]


@dataclasses.dataclass
class Listener:
    """A TCP listener on 127.0.0.1 that counts connections and answers 200 to anything."""

    port: int = 0
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    found = Listener()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


async def deliver_all(
    store: Store, account: Account, urls: list[str], settings: CallbacksSettings
) -> list[Delivery]:
    """Create a finished task per URL, run a sender until every delivery settles; the deliveries."""
    ids = []
    for url in urls:
        new = new_task(callback_url=url)
        ids.append((await store.tasks.create(account.test, new, completed_response={})).id)
    session = callback_session(settings)
    stop = asyncio.Event()
    running = asyncio.create_task(
        CallbackSender(store, session, settings, worker="guard").run(stop)
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            found = [(await store.deliveries.for_task(account.test, i))[0] for i in ids]
            if all(d.status.value in ("failed", "succeeded") for d in found):
                return found
            assert time.monotonic() < deadline, [d.status.value for d in found]
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await running
        await session.close()


@pytest.mark.parametrize(
    "settings", [GUARDED, LOOPBACK_ALLOWED], ids=["default", "loopback-allowed"]
)
async def test_numeric_forms_of_loopback_reach_nothing_and_are_blocked(
    store: Store, account: Account, listener: Listener, settings: CallbacksSettings
) -> None:
    """Every non-canonical numeric host is blocked with its reason, loopback allowed or not."""
    urls = [f"http://{param.values[0]}:{listener.port}/cb" for param in NUMERIC_FORMS]
    found = await deliver_all(store, account, urls, settings)
    assert listener.connections == 0
    for param, delivery in zip(NUMERIC_FORMS, found, strict=True):
        host = param.values[0]
        [attempt] = delivery.attempt_log
        assert (delivery.status.value, attempt.error, attempt.status_code) == (
            "failed",
            "blocked",
            None,
        )
        assert attempt.detail == (
            f"destination host {host} is a non-canonical numeric form of 127.0.0.1; "
            "write the address as 127.0.0.1"
        )


async def test_zero_host_and_fullwidth_digits_reach_nothing(
    store: Store, account: Account, listener: Listener
) -> None:
    """`0` (0.0.0.0, which Linux connects locally) and fullwidth digits are blocked too."""
    urls = [
        f"http://0:{listener.port}/cb",
        f"http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{listener.port}/cb",
        f"http://[::ffff:127.0.0.1]:{listener.port}/cb",
    ]
    zero, fullwidth, mapped = await deliver_all(store, account, urls, GUARDED)
    assert listener.connections == 0
    assert [d.attempt_log[0].error for d in (zero, fullwidth, mapped)] == ["blocked"] * 3
    assert zero.attempt_log[0].detail == (
        "destination host 0 is a non-canonical numeric form of 0.0.0.0; write the address as 0.0.0.0"
    )
    loopback = (
        "a loopback address; allow it with "
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8 (development only)"
    )
    assert fullwidth.attempt_log[0].detail == f"destination 127.0.0.1 is {loopback}"
    assert mapped.attempt_log[0].detail == f"destination ::ffff:7f00:1 embeds 127.0.0.1, {loopback}"


async def test_loopback_by_name_is_blocked_saying_what_it_resolved_to(
    store: Store, account: Account, listener: Listener
) -> None:
    """A name resolving to loopback is blocked by the resolver, and the detail names both."""
    [delivery] = await deliver_all(
        store, account, [f"http://localhost:{listener.port}/cb"], GUARDED
    )
    assert listener.connections == 0
    [attempt] = delivery.attempt_log
    assert attempt.error == "blocked"
    assert attempt.detail is not None
    assert attempt.detail.startswith("destination localhost resolves to ")
    assert "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=" in attempt.detail


async def test_canonical_loopback_is_sent_once_allowed(
    store: Store, account: Account, listener: Listener
) -> None:
    """The same listener is reached by 127.0.0.1 when loopback is allowed: the test can fail."""
    [delivery] = await deliver_all(
        store, account, [f"http://127.0.0.1:{listener.port}/cb"], LOOPBACK_ALLOWED
    )
    assert listener.connections == 1
    assert delivery.status.value == "succeeded"
    assert delivery.attempt_log[0].detail is None
