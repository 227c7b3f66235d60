"""The development receiver (`hookline receive`): verified callbacks 200, anything else 400."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from aiohttp.test_utils import TestServer

from hookline.receiver import parse_secret, receiver_app, summary
from hookline.signing import webhook_headers

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
AUTH_KEY = "a1" * 24
BODY = orjson.dumps(
    {
        "task_id": "t1",
        "status": "completed",
        "response": {"echo": {"x": 1}},
        "task": {"task_id": "t1", "params": {"x": 1}},
    }
)


@dataclass
class Receiver:
    url: str
    printed: list[str] = field(default_factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    printed: list[str] = []
    app = receiver_app(parse_secret(SECRET), callback_auth_key=AUTH_KEY, echo=printed.append)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield Receiver(url=str(server.make_url("/callback")), printed=printed)
    await server.close()


def signed(
    body: bytes = BODY, *, secret: str = SECRET, at: datetime | None = None
) -> dict[str, str]:
    headers = webhook_headers(
        [secret], msg_id="msg_1", timestamp=at or datetime.now(UTC), body=body
    )
    return headers | {"scale-callback-auth": AUTH_KEY, "content-type": "application/json"}


async def test_a_signed_callback_is_printed_and_answered_200(receiver: Receiver) -> None:
    """A callback signed with the account's secret and carrying its auth key is accepted."""
    async with httpx.AsyncClient() as client:
        answer = await client.post(receiver.url, content=BODY, headers=signed())
    assert answer.status_code == 200
    assert receiver.printed == [
        "#1 POST /callback webhook-id=msg_1: signature and scale-callback-auth verified",
        '  {"task_id":"t1","status":"completed","response":{"echo":{"x":1}}}',
    ]


def stale() -> dict[str, str]:
    return signed(at=datetime.now(UTC) - timedelta(minutes=10))


# Headers are made when the test runs: a signature is good for five minutes only.
REFUSED: dict[str, tuple[Callable[[], dict[str, str]], bytes, str]] = {
    "unsigned": (dict, BODY, "Missing required headers"),
    "other-secret": (lambda: signed(secret=OTHER_SECRET), BODY, "No matching signature"),
    "body-changed": (signed, BODY + b" ", "No matching signature"),
    "stale": (stale, BODY, "too old"),
    "malformed": (lambda: signed() | {"webhook-signature": "garbage"}, BODY, "NOT verified"),
    "not-utf8": (signed, b"\xff\xfe", "NOT verified"),
    "auth-key": (lambda: signed() | {"scale-callback-auth": "no"}, BODY, "scale-callback-auth"),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_anything_else_is_answered_400(receiver: Receiver, case: str) -> None:
    """A callback that does not verify gets a 400 and a line saying why."""
    headers, body, printed = REFUSED[case]
    async with httpx.AsyncClient() as client:
        answer = await client.post(receiver.url, content=body, headers=headers())
    assert answer.status_code == 400
    assert "error" in answer.json()
    [line] = receiver.printed
    assert printed in line
    assert "answered 400" in line


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("k" * 44, id="no-prefix"),
        pytest.param("a1" * 24, id="callback-auth-key"),
        pytest.param("whsec_", id="empty"),
        pytest.param("whsec_!!!not base64", id="not-base64"),
    ],
)
def test_parse_secret_names_what_it_wants(secret: str) -> None:
    """Anything but a whsec_ secret is refused with a message saying where to find one."""
    with pytest.raises(ValueError, match="hookline account show"):
        parse_secret(secret)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            BODY, '{"task_id":"t1","status":"completed","response":{"echo":{"x":1}}}', id="task"
        ),
        pytest.param(
            b'{"batch":"b","status":"completed"}', '{"batch":"b","status":"completed"}', id="batch"
        ),
        pytest.param(b"not json", "not json", id="not-json"),
    ],
)
def test_summary_leaves_out_the_task_object(raw: bytes, expected: str) -> None:
    """A callback prints on one line, without the task object it repeats."""
    assert summary(raw) == expected
