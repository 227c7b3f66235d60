"""Callbacks through the API: account credentials, the outbox, delivery, resend, replay, guard.

The in-process app runs no sender, so deliveries stay pending unless a test
runs a `CallbackSender` itself against the same store; receivers are real
aiohttp servers on 127.0.0.1. The database is shared by every test of the
session, so a sender may also attempt other tests' leftover deliveries: each
receiver counts only requests to its own random path, and each test looks
only at its own account's deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
import standardwebhooks
import svix.webhooks
from aiohttp import web
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from hookline.callbacks import CallbackSender, callback_session
from hookline.config import CallbacksSettings, Settings
from hookline.models import Scope
from hookline.store import Store
from tests.api.support import create_task, error_of, ok
from tests.conftest import Account, AccountFactory, ClientFactory

TYPE = "label"
NOWHERE = "http://127.0.0.1:1/outbox"
"""A callback URL for outbox tests: nothing listens there, so a later sender fails fast."""
DEADLINE_S = 10.0

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A real HTTP receiver: records POSTs to its own path and answers `status`."""

    def __init__(self) -> None:
        self.path = f"/hook-{uuid.uuid4().hex}"
        self.status = 200
        self.requests: list[Received] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.path != self.path:
            return web.Response(status=200, text="not mine")
        self.requests.append(
            Received(body=body, headers={k.lower(): v for k, v in request.headers.items()})
        )
        return web.Response(status=self.status, text=f"answered {self.status}")

    def for_task(self, task_id: str) -> list[Received]:
        return [r for r in self.requests if r.json().get("task_id") == task_id]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1."""
    rec = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}{rec.path}"
    yield rec
    await runner.cleanup()


@pytest.fixture
def fast(settings: Settings) -> CallbacksSettings:
    """Callback settings for tests: loopback allowed, a short schedule, quick polling."""
    return dataclasses.replace(
        settings.callbacks,
        allow_networks=("127.0.0.0/8",),
        schedule_s=(0, 0.1, 0.2),
        timeout_s=2,
        poll_s=0.05,
    )


@contextlib.asynccontextmanager
async def sending(store: Store, callbacks: CallbacksSettings) -> AsyncIterator[None]:
    """A real `CallbackSender` running in the background until the block ends."""
    session = callback_session(callbacks)
    stop = asyncio.Event()
    sender = CallbackSender(store, session, callbacks, worker="t")
    running = asyncio.create_task(sender.run(stop))
    try:
        yield
    finally:
        stop.set()
        await running
        await session.close()


async def until(probe: Callable[[], Awaitable[T]], what: str) -> T:
    """Poll `probe` until it answers something truthy, for up to DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {value!r}")
        await asyncio.sleep(0.05)


async def deliveries(client: httpx.AsyncClient, task_id: str) -> list[dict[str, Any]]:
    answer = ok(await client.get(f"/v1/task/{task_id}/callbacks"))
    assert set(answer) == {"deliveries"}
    return list(answer["deliveries"])


async def settled(client: httpx.AsyncClient, task_id: str, status: str) -> list[dict[str, Any]]:
    """The task's deliveries once every one of them has `status`."""

    async def probe() -> list[dict[str, Any]]:
        found = await deliveries(client, task_id)
        return found if found and all(d["status"] == status for d in found) else []

    return await until(probe, f"deliveries of {task_id} to be {status}")


async def actions(client: httpx.AsyncClient, task_id: str) -> list[str]:
    page = ok(await client.get(f"/v1/task/{task_id}/events"))
    return [event["action"] for event in page["docs"]]


async def claim(client: httpx.AsyncClient) -> Any:
    answer = ok(await client.post("/v1/work/claim", json={"types": [TYPE], "worker": "w1"}))
    return answer["task"]


async def finished(
    client: httpx.AsyncClient, *, response: Any = None, **body: Any
) -> dict[str, Any]:
    """A new task of TYPE claimed and completed through the worker API; the completed task."""
    task = await create_task(client, TYPE, **body)
    leased = await claim(client)
    assert leased["task_id"] == task["task_id"]
    done = ok(
        await client.post(
            f"/v1/task/{task['task_id']}/complete",
            json={"worker": "w1", "response": response or {"label": "cat"}},
        )
    )
    assert done["status"] == "completed"
    return dict(done)


async def requests_to(receiver: Receiver) -> list[Received]:
    return receiver.requests


async def credentials(client: httpx.AsyncClient) -> dict[str, Any]:
    return dict(ok(await client.get("/v1/account")))


# Account credentials


async def test_account_shows_callback_credentials(api: httpx.AsyncClient, account: Account) -> None:
    """GET /v1/account answers the account, environment, callback auth key and a whsec_ secret."""
    creds = await credentials(api)
    assert set(creds) == {"account", "environment", "callback_auth_key", "webhook_secret"}
    assert creds["account"] == account.name
    assert creds["environment"] == "live"
    assert creds["webhook_secret"].startswith("whsec_")
    assert len(creds["webhook_secret"]) > len("whsec_") + 16
    assert isinstance(creds["callback_auth_key"], str)
    assert len(creds["callback_auth_key"]) >= 16
    assert await credentials(api) == creds


async def test_account_endpoints_need_admin_scope(
    account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """A key without the admin scope gets 403 from GET /v1/account and from rotation."""
    submitter = await account_factory(scopes=frozenset({Scope.SUBMIT}))
    client = client_factory(submitter.live_key)
    error_of(await client.get("/v1/account"), 403)
    error_of(await client.post("/v1/account/rotate_webhook_secret"), 403)
    error_of(await client_factory().get("/v1/account"), 401)


async def test_rotation_gives_a_new_secret_and_reports_the_previous(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    """Rotation answers a new secret, the previous one and when it stops signing."""
    before = await credentials(api)
    now = datetime.now(UTC)
    rotated = ok(await api.post("/v1/account/rotate_webhook_secret"))
    assert set(rotated) == {
        "account",
        "environment",
        "callback_auth_key",
        "webhook_secret",
        "previous_webhook_secret",
        "previous_secret_expires_at",
    }
    assert rotated["webhook_secret"].startswith("whsec_")
    assert rotated["webhook_secret"] != before["webhook_secret"]
    assert rotated["previous_webhook_secret"] == before["webhook_secret"]
    assert rotated["callback_auth_key"] == before["callback_auth_key"]
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    grace = timedelta(seconds=settings.callbacks.secret_grace_s)
    assert now + grace - timedelta(seconds=5) <= expires <= now + grace + timedelta(seconds=5)
    assert await credentials(api) == rotated
    again = ok(await api.post("/v1/account/rotate_webhook_secret"))
    assert again["previous_webhook_secret"] == rotated["webhook_secret"]
    assert again["webhook_secret"] not in (rotated["webhook_secret"], before["webhook_secret"])


async def test_credentials_are_per_account(
    api: httpx.AsyncClient,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """Each account has its own auth key and secret; rotating one leaves the other's alone."""
    other = client_factory((await account_factory()).live_key)
    mine, theirs = await credentials(api), await credentials(other)
    assert mine["account"] != theirs["account"]
    assert mine["webhook_secret"] != theirs["webhook_secret"]
    assert mine["callback_auth_key"] != theirs["callback_auth_key"]
    ok(await api.post("/v1/account/rotate_webhook_secret"))
    assert await credentials(other) == theirs


async def test_each_environment_has_its_own_credentials(
    account: Account, client_factory: ClientFactory
) -> None:
    """A test key reads the test environment's auth key and secret, never the live ones."""
    live = await credentials(client_factory(account.live_key))
    test = await credentials(client_factory(account.test_key))
    assert (live["account"], live["environment"]) == (account.name, "live")
    assert (test["account"], test["environment"]) == (account.name, "test")
    assert test["webhook_secret"].startswith("whsec_")
    assert test["webhook_secret"] != live["webhook_secret"]
    assert test["callback_auth_key"] != live["callback_auth_key"]


async def test_rotation_acts_on_the_calling_keys_environment(
    account: Account, client_factory: ClientFactory
) -> None:
    """A test key's rotation changes the test secret only; the live one stays as it was."""
    live_client, test_client = client_factory(account.live_key), client_factory(account.test_key)
    live, test = await credentials(live_client), await credentials(test_client)
    rotated = ok(await test_client.post("/v1/account/rotate_webhook_secret"))
    assert rotated["environment"] == "test"
    assert rotated["previous_webhook_secret"] == test["webhook_secret"]
    assert rotated["webhook_secret"] != live["webhook_secret"]
    assert await credentials(live_client) == live
    assert await credentials(test_client) == rotated


# The outbox (no sender runs: deliveries stay pending)


async def test_completion_enqueues_one_pending_delivery(api: httpx.AsyncClient) -> None:
    """Completing a task with a callback_url writes one pending task.completed delivery."""
    task = await create_task(api, TYPE, callback_url=NOWHERE)
    assert await deliveries(api, task["task_id"]) == []
    await claim(api)
    ok(
        await api.post(
            f"/v1/task/{task['task_id']}/complete", json={"worker": "w1", "response": {"a": 1}}
        )
    )
    [delivery] = await deliveries(api, task["task_id"])
    assert delivery["status"] == "pending"
    assert delivery["url"] == NOWHERE
    assert delivery["event"] == "task.completed"
    assert delivery["attempts"] == []
    assert delivery["next_attempt_at"] is not None
    assert isinstance(delivery["id"], str)
    assert delivery["id"]
    assert {"id", "status", "url", "event", "attempts", "next_attempt_at"} <= set(delivery)
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["callback_completed"] is False


async def test_task_without_callback_url_has_no_delivery(api: httpx.AsyncClient) -> None:
    """A completed task without a callback_url has no deliveries."""
    task = await finished(api)
    assert await deliveries(api, task["task_id"]) == []


async def test_failing_a_task_enqueues_an_error_delivery(api: httpx.AsyncClient) -> None:
    """A worker's fail without retry errors the task and enqueues a task.error delivery."""
    task = await create_task(api, TYPE, callback_url=NOWHERE)
    await claim(api)
    failed = ok(
        await api.post(
            f"/v1/task/{task['task_id']}/fail",
            json={"worker": "w1", "error": "cannot label", "retry": False},
        )
    )
    assert failed["status"] == "error"
    [delivery] = await deliveries(api, task["task_id"])
    assert delivery["event"] == "task.error"
    assert delivery["status"] == "pending"
    assert delivery["url"] == NOWHERE


async def test_canceling_does_not_enqueue(api: httpx.AsyncClient) -> None:
    """Canceling a task with a callback_url enqueues no delivery."""
    task = await create_task(api, TYPE, callback_url=NOWHERE)
    canceled = ok(await api.post(f"/v1/task/{task['task_id']}/cancel"))
    assert canceled["status"] == "canceled"
    assert await deliveries(api, task["task_id"]) == []


async def test_redo_completion_enqueues_a_second_delivery(api: httpx.AsyncClient) -> None:
    """A redone task's new completion enqueues a second task.completed delivery."""
    task = await finished(api, callback_url=NOWHERE)
    [first] = await deliveries(api, task["task_id"])
    redone = ok(await api.post(f"/v1/task/{task['task_id']}/redo", json={"reason": "again"}))
    assert redone["status"] == "pending"
    assert await deliveries(api, task["task_id"]) == [first]
    assert (await claim(api))["task_id"] == task["task_id"]
    ok(
        await api.post(
            f"/v1/task/{task['task_id']}/complete", json={"worker": "w1", "response": {"v": 2}}
        )
    )
    found = await deliveries(api, task["task_id"])
    assert len(found) == 2
    assert found[0]["id"] == first["id"]
    assert found[1]["id"] != first["id"]
    assert [d["event"] for d in found] == ["task.completed", "task.completed"]
    assert [d["status"] for d in found] == ["pending", "pending"]


async def test_test_key_task_has_its_delivery_at_creation(
    client_factory: ClientFactory, account: Account
) -> None:
    """A test-environment task completes at creation and its delivery is already enqueued."""
    client = client_factory(account.test_key)
    task = await create_task(client, TYPE, callback_url=NOWHERE)
    assert task["status"] == "completed"
    [delivery] = await deliveries(client, task["task_id"])
    assert delivery["event"] == "task.completed"
    assert delivery["status"] == "pending"


async def test_another_accounts_task_callbacks_answer_404(
    api: httpx.AsyncClient,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """Another account's task is a 404 for its callbacks and resend; so is an unknown id."""
    task = await finished(api, callback_url=NOWHERE)
    other = client_factory((await account_factory()).live_key)
    error_of(await other.get(f"/v1/task/{task['task_id']}/callbacks"), 404)
    error_of(await other.post(f"/v1/task/{task['task_id']}/callbacks/resend"), 404)
    error_of(await api.get("/v1/task/no-such-task/callbacks"), 404)
    [delivery] = await deliveries(api, task["task_id"])
    assert delivery["status"] == "pending"


# Delivery with a real sender


async def test_sender_delivers_a_signed_callback(
    api: httpx.AsyncClient, store: Store, fast: CallbacksSettings, receiver: Receiver
) -> None:
    """The receiver gets the Scale body with the auth key and a verifiable signature."""
    creds = await credentials(api)
    task = await finished(api, callback_url=receiver.url, response={"label": "dog"})
    task_id = task["task_id"]
    async with sending(store, fast):
        [delivery] = await settled(api, task_id, "succeeded")
    [received] = receiver.for_task(task_id)
    body = received.json()
    assert set(body) == {"task_id", "status", "response", "task"}
    assert body["task_id"] == task_id
    assert body["status"] == "completed"
    assert body["response"] == {"label": "dog"}
    assert body["task"]["task_id"] == task_id
    assert body["task"]["status"] == "completed"
    assert body["task"]["callback_url"] == receiver.url
    assert received.headers["content-type"].startswith("application/json")
    assert received.headers["scale-callback-auth"] == creds["callback_auth_key"]
    assert received.headers["webhook-id"]
    assert received.headers["webhook-signature"].startswith("v1,")
    stamp = int(received.headers["webhook-timestamp"])
    assert abs(stamp - time.time()) < 60
    verified = standardwebhooks.Webhook(creds["webhook_secret"]).verify(
        received.body, received.headers
    )
    assert verified == body
    svix.webhooks.Webhook(creds["webhook_secret"]).verify(received.body, received.headers)
    tampered = received.body.replace(b"dog", b"cat")
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(creds["webhook_secret"]).verify(tampered, received.headers)

    assert ok(await api.get(f"/v1/task/{task_id}"))["callback_completed"] is True
    [attempt] = delivery["attempts"]
    assert set(attempt) == {"at", "status_code", "error", "duration_ms", "body", "detail"}
    assert attempt["detail"] is None
    assert attempt["status_code"] == 200
    assert attempt["error"] is None
    assert attempt["body"] == "answered 200"
    assert isinstance(attempt["duration_ms"], int | float)
    assert attempt["duration_ms"] >= 0
    assert attempt["at"] is not None
    assert "callback_delivered" in await actions(api, task_id)


async def test_test_environment_callbacks_use_the_test_credentials(
    account: Account,
    client_factory: ClientFactory,
    store: Store,
    fast: CallbacksSettings,
    receiver: Receiver,
) -> None:
    """A test task's callback carries the test auth key and verifies with the test secret only."""
    test_client = client_factory(account.test_key)
    live = await credentials(client_factory(account.live_key))
    test = await credentials(test_client)
    task = await create_task(test_client, TYPE, callback_url=receiver.url)
    assert task["status"] == "completed"
    async with sending(store, fast):
        await settled(test_client, task["task_id"], "succeeded")
    [received] = receiver.for_task(task["task_id"])
    assert received.headers["scale-callback-auth"] == test["callback_auth_key"]
    assert len(received.headers["webhook-signature"].split(" ")) == 1
    standardwebhooks.Webhook(test["webhook_secret"]).verify(received.body, received.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(live["webhook_secret"]).verify(received.body, received.headers)


async def test_signature_verifies_with_old_and_new_secret_after_rotation(
    api: httpx.AsyncClient,
    store: Store,
    fast: CallbacksSettings,
    receiver: Receiver,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """During the grace period a callback verifies with both the old and the new secret."""
    old = (await credentials(api))["webhook_secret"]
    new = ok(await api.post("/v1/account/rotate_webhook_secret"))["webhook_secret"]
    stranger = await credentials(client_factory((await account_factory()).live_key))
    task = await finished(api, callback_url=receiver.url)
    async with sending(store, fast):
        await settled(api, task["task_id"], "succeeded")
    [received] = receiver.for_task(task["task_id"])
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        standardwebhooks.Webhook(secret).verify(received.body, received.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(stranger["webhook_secret"]).verify(received.body, received.headers)


async def test_exhausted_schedule_fails_then_resend_and_replay_requeue(
    api: httpx.AsyncClient,
    store: Store,
    fast: CallbacksSettings,
    receiver: Receiver,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """Always-500 fails after the schedule; resend and replay re-queue only the caller's own."""
    receiver.status = 500
    two_tries = dataclasses.replace(fast, schedule_s=(0, 0.1))
    other = client_factory((await account_factory()).live_key)
    first = (await finished(api, callback_url=receiver.url))["task_id"]
    second = (await finished(api, callback_url=receiver.url))["task_id"]
    theirs = (await finished(other, callback_url=receiver.url))["task_id"]
    secret = (await credentials(api))["webhook_secret"]

    async with sending(store, two_tries):
        for client, task_id in ((api, first), (api, second), (other, theirs)):
            [delivery] = await settled(client, task_id, "failed")
            assert [a["status_code"] for a in delivery["attempts"]] == [500, 500]
            assert [a["error"] for a in delivery["attempts"]] == [None, None]
            assert delivery["attempts"][0]["body"] == "answered 500"
    for client, task_id in ((api, first), (api, second), (other, theirs)):
        assert ok(await client.get(f"/v1/task/{task_id}"))["callback_completed"] is False
        trail = await actions(client, task_id)
        assert "callback_failed" in trail
        assert "callback_delivered" not in trail
    tries = receiver.for_task(first)
    assert len(tries) == 2
    assert tries[0].headers["webhook-id"] == tries[1].headers["webhook-id"]
    for attempt in tries:
        standardwebhooks.Webhook(secret).verify(attempt.body, attempt.headers)

    # No sender runs now: what is re-queued stays pending.
    resent = ok(await api.post(f"/v1/task/{first}/callbacks/resend"))
    assert [d["status"] for d in resent["deliveries"]] == ["pending"]
    assert [d["status"] for d in await deliveries(api, first)] == ["pending"]
    error_of(await api.post("/v1/callbacks/replay", json={"status": "bogus"}), 400)
    error_of(await api.post("/v1/callbacks/replay", json={"status": "pending"}), 400)
    error_of(await api.post("/v1/callbacks/replay", json={"since": "yesterday"}), 400)
    window = {"status": "failed", "until": "2000-01-01"}
    assert ok(await api.post("/v1/callbacks/replay", json=window)) == {"replayed": 0}
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    window = {"status": "failed", "since": later}
    assert ok(await api.post("/v1/callbacks/replay", json=window)) == {"replayed": 0}
    assert ok(await api.post("/v1/callbacks/replay", json={"status": "failed"})) == {"replayed": 1}
    assert [d["status"] for d in await deliveries(api, second)] == ["pending"]
    assert [d["status"] for d in await deliveries(other, theirs)] == ["failed"]
    assert ok(await api.post("/v1/callbacks/replay", json={"status": "failed"})) == {"replayed": 0}

    receiver.status = 200
    async with sending(store, two_tries):
        for task_id in (first, second):
            [delivery] = await settled(api, task_id, "succeeded")
            assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    for task_id in (first, second):
        assert ok(await api.get(f"/v1/task/{task_id}"))["callback_completed"] is True
        assert "callback_delivered" in await actions(api, task_id)
    [untouched] = await deliveries(other, theirs)
    assert untouched["status"] == "failed"
    assert len(untouched["attempts"]) == 2
    assert len(receiver.for_task(theirs)) == 2
    assert ok(await other.get(f"/v1/task/{theirs}"))["callback_completed"] is False


async def test_finished_batch_is_called_back_once(
    api: httpx.AsyncClient, store: Store, fast: CallbacksSettings, receiver: Receiver
) -> None:
    """A finalized batch whose tasks all complete becomes completed and is POSTed once."""
    ok(await api.post("/v1/projects", json={"type": TYPE, "name": "proj"}))
    batch = ok(
        await api.post(
            "/v1/batches", json={"name": "week-1", "project": "proj", "callback": receiver.url}
        )
    )
    assert batch["callback"] == receiver.url
    made = [await create_task(api, TYPE, batch="week-1") for _ in range(2)]
    assert ok(await api.post("/v1/batches/week-1/finalize"))["status"] == "in_progress"
    for _ in made:
        leased = await claim(api)
        ok(
            await api.post(
                f"/v1/task/{leased['task_id']}/complete", json={"worker": "w1", "response": {}}
            )
        )
    assert ok(await api.get("/v1/batches/week-1"))["status"] == "completed"
    async with sending(store, fast):
        await until(lambda: requests_to(receiver), "the batch callback")
        await asyncio.sleep(0.3)  # a few poll cycles, to catch a duplicate
    [received] = receiver.requests
    body = received.json()
    assert body["batch"] == "week-1"
    assert body["status"] == "completed"
    assert body["completed"] == 2
    assert body["project"] == "proj"


async def test_default_guard_blocks_loopback(
    api: httpx.AsyncClient, store: Store, settings: Settings, receiver: Receiver
) -> None:
    """With no allowed networks a loopback callback is never sent; attempt, trail and log say why."""
    assert settings.callbacks.allow_networks == ()
    guarded = dataclasses.replace(settings.callbacks, timeout_s=2, poll_s=0.05)
    task = await finished(api, callback_url=receiver.url)
    with capture_logs(processors=[merge_contextvars]) as logs:
        async with sending(store, guarded):
            [delivery] = await settled(api, task["task_id"], "failed")
    why = (
        "destination 127.0.0.1 is a loopback address; allow it with "
        "HOOKLINE_CALLBACKS_ALLOW_NETWORKS=127.0.0.0/8 (development only)"
    )
    [attempt] = delivery["attempts"]
    assert (attempt["error"], attempt["detail"], attempt["body"]) == ("blocked", why, None)
    assert attempt["status_code"] is None
    assert receiver.requests == []
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["callback_completed"] is False
    trail = ok(await api.get(f"/v1/task/{task['task_id']}/events"))["docs"]
    assert [e["reason"] for e in trail if e["action"] == "callback_failed"] == [why]
    warned = [
        e
        for e in logs
        if e["event"] == "callback_attempt" and e.get("delivery_id") == delivery["id"]
    ]
    assert [(e["log_level"], e["error"], e["detail"]) for e in warned] == [
        ("warning", "blocked", why)
    ]
