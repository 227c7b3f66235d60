"""The worker API: claim with a lease, heartbeat, complete, fail, redo, retry; long-poll reads.

The in-process app runs no dispatcher, so every task stays pending until a
worker acts on it through the API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hookline.models import Environment, Scope
from hookline.store import Store
from tests.api.support import create_task, error_of, ok
from tests.conftest import Account, AccountFactory, ClientFactory, FakeClock

TYPE = "label"


def when(stamp: str) -> datetime:
    """A timestamp of the API as an aware datetime."""
    return datetime.fromisoformat(stamp)


async def claim(
    client: httpx.AsyncClient,
    worker: str = "w1",
    *,
    lease_s: float = 60,
    types: list[str] | None = None,
) -> Any:
    """`POST /v1/work/claim`; the claimed task (with its lease) or None."""
    answer = ok(
        await client.post(
            "/v1/work/claim",
            json={"types": types or [TYPE], "lease_s": lease_s, "worker": worker},
        )
    )
    assert set(answer) == {"task"}
    return answer["task"]


async def act(client: httpx.AsyncClient, task_id: str, verb: str, **body: Any) -> httpx.Response:
    """`POST /v1/task/{task_id}/{verb}` with a JSON body."""
    return await client.post(f"/v1/task/{task_id}/{verb}", json=body)


async def get(client: httpx.AsyncClient, task_id: str) -> Any:
    return ok(await client.get(f"/v1/task/{task_id}"))


async def actions(client: httpx.AsyncClient, task_id: str) -> list[str]:
    """The actions in the task's audit trail, oldest first."""
    page = ok(await client.get(f"/v1/task/{task_id}/events"))
    return [event["action"] for event in page["docs"]]


async def claimed_task(client: httpx.AsyncClient, worker: str = "w1", **body: Any) -> Any:
    """A new task of TYPE, claimed by `worker`."""
    task = await create_task(client, TYPE, **body)
    leased = await claim(client, worker)
    assert leased["task_id"] == task["task_id"]
    return leased


async def test_claim_returns_the_task_with_its_lease(api: httpx.AsyncClient) -> None:
    """A claim answers the pending task with its lease: worker, expiry and attempt."""
    task = await create_task(api, TYPE, text="hello")
    before = datetime.now(UTC)
    leased = await claim(api, "w1", lease_s=30)
    after = datetime.now(UTC)
    assert leased["task_id"] == task["task_id"]
    assert leased["status"] == "pending"
    assert leased["params"] == {"text": "hello"}
    assert set(leased["lease"]) == {"worker", "expires_at", "attempt"}
    assert leased["lease"]["worker"] == "w1"
    assert leased["lease"]["attempt"] == 1
    expires = when(leased["lease"]["expires_at"])
    assert before + timedelta(seconds=29) <= expires <= after + timedelta(seconds=31)


async def test_claim_answers_null_when_nothing_is_claimable(api: httpx.AsyncClient) -> None:
    """With no claimable task of the wanted types the answer is 200 `{"task": null}`."""
    assert await claim(api) is None
    task = await create_task(api, "other")
    assert await claim(api, types=[TYPE]) is None
    leased = ok(await api.post("/v1/work/claim", json={"worker": "w1"}))["task"]
    assert leased["task_id"] == task["task_id"]
    assert await claim(api, types=["other"]) is None


async def test_claim_order_is_priority_then_oldest(
    clocked: ClientFactory, clock: FakeClock, account: Account
) -> None:
    """Claims take the highest priority first and, within a priority, the oldest."""
    api = clocked(account.live_key)
    created = {}
    for name, priority in [("low", 10), ("high-1", 30), ("mid", 20), ("high-2", 30), ("low-2", 10)]:
        created[name] = (await create_task(api, TYPE, priority=priority))["task_id"]
        clock.advance(0.003)  # ids order by the millisecond
    order = []
    while (leased := await claim(api)) is not None:
        order.append(leased["task_id"])
    assert order == [created[n] for n in ("high-1", "high-2", "mid", "low", "low-2")]


async def test_leased_task_is_not_claimable_by_another_worker(api: httpx.AsyncClient) -> None:
    """While w1 holds the lease, w2's claim answers null and the task stays w1's."""
    leased = await claimed_task(api, "w1")
    assert await claim(api, "w2") is None
    assert error_of(await act(api, leased["task_id"], "complete", worker="w2", response={}), 409)
    done = ok(await act(api, leased["task_id"], "complete", worker="w1", response={"ok": 1}))
    assert done["status"] == "completed"


async def test_concurrent_claims_never_share_a_task(api: httpx.AsyncClient) -> None:
    """Workers claiming at once get each task at most once, and every task is claimed."""
    task_ids = {(await create_task(api, TYPE))["task_id"] for _ in range(3)}
    results = await asyncio.gather(*(claim(api, f"w{i}") for i in range(6)))
    claimed = [r["task_id"] for r in results if r is not None]
    assert sorted(claimed) == sorted(task_ids)
    assert len(results) - len(claimed) == 3


async def test_expired_lease_is_claimable_again(
    clocked: ClientFactory, clock: FakeClock, account: Account
) -> None:
    """After the lease expires another worker claims the task; the trail says lease_expired, claimed."""
    client = clocked(account.live_key)
    leased = await claimed_task(client, "w1")
    task_id = leased["task_id"]
    clock.advance(59)
    assert await claim(client, "w2") is None
    clock.advance(2)
    again = await claim(client, "w2")
    assert again["task_id"] == task_id
    assert again["lease"]["worker"] == "w2"
    assert again["lease"]["attempt"] == 2
    # The old holder lost it: it can no longer heartbeat or complete.
    error_of(await act(client, task_id, "heartbeat", worker="w1"), 409)
    error_of(await act(client, task_id, "complete", worker="w1", response={}), 409)
    events = ok(await client.get(f"/v1/task/{task_id}/events"))["docs"]
    assert [e["action"] for e in events] == ["created", "claimed", "lease_expired", "claimed"]
    expired, reclaimed = events[2], events[3]
    assert expired["actor"] == "system"
    assert expired["details"]["previous_owner"] == "w1"
    assert reclaimed["actor"] == "w2"
    assert reclaimed["details"]["attempt"] == 2


async def test_heartbeat_by_holder_extends_the_lease(
    clocked: ClientFactory, clock: FakeClock, account: Account
) -> None:
    """The holder's heartbeat moves expires_at on, so the task outlives its first lease."""
    client = clocked(account.live_key)
    leased = await claimed_task(client, "w1")
    first_expiry = when(leased["lease"]["expires_at"])
    clock.advance(50)
    beat = ok(await act(client, leased["task_id"], "heartbeat", worker="w1", lease_s=60))
    assert beat["lease"]["worker"] == "w1"
    assert when(beat["lease"]["expires_at"]) == first_expiry + timedelta(seconds=50)
    clock.advance(30)  # past the first lease, inside the extended one
    assert await claim(client, "w2") is None
    done = ok(await act(client, leased["task_id"], "complete", worker="w1", response={"a": 1}))
    assert done["status"] == "completed"


async def test_heartbeat_by_another_worker_answers_409(
    clocked: ClientFactory, clock: FakeClock, account: Account
) -> None:
    """A heartbeat from a worker that holds no lease is a 409 and extends nothing."""
    client = clocked(account.live_key)
    leased = await claimed_task(client, "w1")
    before = await get(client, leased["task_id"])
    clock.advance(10)
    error_of(await act(client, leased["task_id"], "heartbeat", worker="w2", lease_s=3600), 409)
    assert await get(client, leased["task_id"]) == before
    assert await actions(client, leased["task_id"]) == ["created", "claimed"]
    clock.advance(55)  # w1's original lease has run out: w2's heartbeat did not extend it
    again = await claim(client, "w3")
    assert again["task_id"] == leased["task_id"]


async def test_complete_by_holder_completes_the_task(api: httpx.AsyncClient) -> None:
    """The holder's complete stores the response, sets completed_at and drops the lease."""
    leased = await claimed_task(api, "w1")
    done = ok(await act(api, leased["task_id"], "complete", worker="w1", response={"label": "cat"}))
    assert done["status"] == "completed"
    assert done["response"] == {"label": "cat"}
    assert done["completed_at"] is not None
    assert done["lease"] is None
    got = await get(api, leased["task_id"])
    assert got["status"] == "completed"
    assert got["response"] == {"label": "cat"}
    assert await claim(api, "w2") is None


async def test_complete_by_another_worker_answers_409(api: httpx.AsyncClient) -> None:
    """Another worker's complete is a 409 and the task stays pending with no response."""
    leased = await claimed_task(api, "w1")
    error_of(await act(api, leased["task_id"], "complete", worker="w2", response={"x": 1}), 409)
    got = await get(api, leased["task_id"])
    assert got["status"] == "pending"
    assert got["response"] is None
    assert await actions(api, leased["task_id"]) == ["created", "claimed"]


@pytest.mark.parametrize(
    ("verb", "body"),
    [
        pytest.param("heartbeat", {"lease_s": 3600}, id="heartbeat"),
        pytest.param("complete", {"response": {"label": "stolen"}}, id="complete"),
        pytest.param("fail", {"error": "nope"}, id="fail"),
        pytest.param("fail", {"error": "nope", "retry": True}, id="fail-retry"),
    ],
)
async def test_another_key_naming_the_worker_answers_409(
    api: httpx.AsyncClient,
    account: Account,
    store: Store,
    client_factory: ClientFactory,
    verb: str,
    body: dict[str, Any],
) -> None:
    """A key that did not claim the lease is refused as a wrong worker, even naming the worker."""
    other_key = await store.accounts.create_key(
        account=account.name, environment=Environment.LIVE, scopes={Scope.WORK}
    )
    other = client_factory(other_key)
    leased = await claimed_task(api, "w1")
    task_id = leased["task_id"]
    before = await get(api, task_id)

    stolen = error_of(await act(other, task_id, verb, worker="w1", **body), 409)
    wrong_worker = error_of(await act(api, task_id, verb, worker="w2", **body), 409)

    assert stolen == f"Task {task_id} is not leased to worker 'w1'; claim it first"
    assert wrong_worker == stolen.replace("'w1'", "'w2'")
    assert await get(api, task_id) == before
    assert await actions(api, task_id) == ["created", "claimed"]
    done = ok(await act(api, task_id, "complete", worker="w1", response={"label": "mine"}))
    assert done["response"] == {"label": "mine"}


async def test_a_new_claim_by_another_key_takes_the_expired_lease(
    clocked: ClientFactory, clock: FakeClock, account: Account, store: Store
) -> None:
    """Once a lease expired, another key's claim holds it and the first key is refused."""
    first = clocked(account.live_key)
    second = clocked(
        await store.accounts.create_key(
            account=account.name, environment=Environment.LIVE, scopes={Scope.WORK}
        )
    )
    task = await create_task(first, TYPE)
    leased = await claim(first, "w1", lease_s=30)
    assert leased["task_id"] == task["task_id"]
    clock.advance(31)
    again = await claim(second, "w1")
    assert again["task_id"] == leased["task_id"]
    assert again["lease"]["worker"] == "w1"
    error_of(await act(first, leased["task_id"], "complete", worker="w1", response={}), 409)
    beat = ok(await act(second, leased["task_id"], "heartbeat", worker="w1", lease_s=60))
    assert beat["lease"]["worker"] == "w1"


async def test_a_dispatcher_lease_refuses_every_key(
    api: httpx.AsyncClient, store: Store, account: Account
) -> None:
    """A task the dispatcher holds cannot be completed through the API by naming its owner."""
    task_type = f"disp-{uuid.uuid4().hex[:8]}"
    task = await create_task(api, task_type)
    [held] = await store.work.claim(worker="dispatcher-1", lease_s=60, limit=1, types=[task_type])
    assert held.id == task["task_id"]

    response = await act(api, held.id, "complete", worker="dispatcher-1", response={})

    error_of(response, 409)
    assert (await get(api, held.id))["status"] == "pending"


async def test_complete_of_an_unclaimed_task_answers_409(api: httpx.AsyncClient) -> None:
    """Completing a task nobody claimed is a 409; a claim comes first."""
    task = await create_task(api, TYPE)
    error_of(await act(api, task["task_id"], "complete", worker="w1", response={}), 409)
    assert (await get(api, task["task_id"]))["status"] == "pending"


async def test_complete_twice_answers_409(api: httpx.AsyncClient) -> None:
    """A second complete is a 409 and leaves the first response in place."""
    leased = await claimed_task(api, "w1")
    ok(await act(api, leased["task_id"], "complete", worker="w1", response={"n": 1}))
    error_of(await act(api, leased["task_id"], "complete", worker="w1", response={"n": 2}), 409)
    assert (await get(api, leased["task_id"]))["response"] == {"n": 1}
    assert (await actions(api, leased["task_id"])).count("completed") == 1


async def test_concurrent_completes_complete_once(api: httpx.AsyncClient) -> None:
    """Two completes racing for one task: one answers 200, the other 409."""
    leased = await claimed_task(api, "w1")
    answers = await asyncio.gather(
        *(act(api, leased["task_id"], "complete", worker="w1", response={"n": n}) for n in (1, 2))
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await get(api, leased["task_id"]))["response"] == winner["response"]
    assert (await actions(api, leased["task_id"])).count("completed") == 1


async def test_cancel_of_a_leased_task_stops_its_worker(api: httpx.AsyncClient) -> None:
    """A leased task canceled by its submitter can no longer be completed by the worker."""
    leased = await claimed_task(api, "w1")
    ok(await api.post(f"/v1/task/{leased['task_id']}/cancel"))
    error_of(await act(api, leased["task_id"], "complete", worker="w1", response={}), 409)
    error_of(await act(api, leased["task_id"], "heartbeat", worker="w1"), 409)
    got = await get(api, leased["task_id"])
    assert got["status"] == "canceled"
    assert got["response"] is None


async def test_fail_without_retry_sets_error(api: httpx.AsyncClient) -> None:
    """fail with retry false moves the task to error with the worker's error text."""
    leased = await claimed_task(api, "w1")
    failed = ok(
        await act(api, leased["task_id"], "fail", worker="w1", error="image missing", retry=False)
    )
    assert failed["status"] == "error"
    assert failed["error"] == "image missing"
    assert failed["lease"] is None
    got = await get(api, leased["task_id"])
    assert got["status"] == "error"
    assert got["error"] == "image missing"
    assert await claim(api, "w2") is None


async def test_fail_with_retry_returns_the_task_to_pending(api: httpx.AsyncClient) -> None:
    """fail with retry true leaves the task pending, unleased and claimable again."""
    leased = await claimed_task(api, "w1")
    released = ok(await act(api, leased["task_id"], "fail", worker="w1", error="flaky", retry=True))
    assert released["status"] == "pending"
    assert released["lease"] is None
    again = await claim(api, "w2")
    assert again["task_id"] == leased["task_id"]
    assert again["lease"]["attempt"] == 2
    assert await actions(api, leased["task_id"]) == [
        "created",
        "claimed",
        "attempt_failed",
        "claimed",
    ]


async def test_redo_reopens_a_completed_task(api: httpx.AsyncClient) -> None:
    """redo sends a completed task back to pending, counts it and clears its response."""
    leased = await claimed_task(api, "w1")
    ok(await act(api, leased["task_id"], "complete", worker="w1", response={"v": 1}))
    redone = ok(await act(api, leased["task_id"], "redo", reason="wrong label"))
    assert redone["status"] == "pending"
    assert redone["times_redone"] == 1
    assert redone["response"] is None
    assert redone["completed_at"] is None
    assert (await get(api, leased["task_id"]))["times_redone"] == 1
    again = await claim(api, "w2")
    assert again["task_id"] == leased["task_id"]
    assert again["lease"]["attempt"] == 1


async def test_redo_of_a_pending_task_answers_409(api: httpx.AsyncClient) -> None:
    """redo applies only to completed tasks; a pending one answers 409 unchanged."""
    task = await create_task(api, TYPE)
    error_of(await act(api, task["task_id"], "redo"), 409)
    got = await get(api, task["task_id"])
    assert got["status"] == "pending"
    assert got["times_redone"] == 0


async def test_retry_reopens_an_errored_task(api: httpx.AsyncClient) -> None:
    """retry sends an errored task back to pending without its error, claimable again."""
    leased = await claimed_task(api, "w1")
    ok(await act(api, leased["task_id"], "fail", worker="w1", error="boom", retry=False))
    retried = ok(await act(api, leased["task_id"], "retry", reason="fixed the input"))
    assert retried["status"] == "pending"
    assert "error" not in retried
    again = await claim(api, "w2")
    assert again["task_id"] == leased["task_id"]


async def test_retry_of_a_completed_task_answers_409(api: httpx.AsyncClient) -> None:
    """retry applies only to errored tasks; a completed one answers 409 unchanged."""
    leased = await claimed_task(api, "w1")
    ok(await act(api, leased["task_id"], "complete", worker="w1", response={"v": 1}))
    error_of(await act(api, leased["task_id"], "retry"), 409)
    got = await get(api, leased["task_id"])
    assert got["status"] == "completed"
    assert got["response"] == {"v": 1}


async def test_submit_only_key_cannot_work(
    account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """A key without the work scope gets 403 from claim, heartbeat, complete and fail."""
    submitter = client_factory((await account_factory(scopes=frozenset({Scope.SUBMIT}))).live_key)
    task = await create_task(submitter, TYPE)
    error_of(await submitter.post("/v1/work/claim", json={"worker": "w1"}), 403)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("heartbeat", {"worker": "w1"}),
        ("complete", {"worker": "w1", "response": {}}),
        ("fail", {"worker": "w1", "error": "x"}),
    ]
    for verb, body in attempts:
        error_of(await act(submitter, task["task_id"], verb, **body), 403)
    assert await actions(submitter, task["task_id"]) == ["created"]


async def test_work_only_key_cannot_submit(
    account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """A work-only key gets 403 creating tasks but may claim."""
    worker = client_factory((await account_factory(scopes=frozenset({Scope.WORK}))).live_key)
    error_of(await worker.post(f"/v1/task/{TYPE}", json={"text": "x"}), 403)
    assert ok(await worker.get("/v1/tasks"))["total"] == 0
    assert await claim(worker) is None


async def test_claims_stay_in_their_account(
    api: httpx.AsyncClient,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """A worker of another account never claims this account's tasks."""
    task = await create_task(api, TYPE)
    other = client_factory((await account_factory()).live_key)
    assert await claim(other, "intruder") is None
    assert ok(await other.post("/v1/work/claim", json={"worker": "intruder"}))["task"] is None
    error_of(await act(other, task["task_id"], "complete", worker="intruder", response={}), 404)
    assert (await claim(api, "w1"))["task_id"] == task["task_id"]


async def test_claims_stay_in_their_environment(
    api: httpx.AsyncClient, account: Account, client_factory: ClientFactory
) -> None:
    """A live worker never claims a test-environment task, and a test worker claims it."""
    test = client_factory(account.test_key)
    task = await create_task(test, TYPE)
    assert task["status"] == "completed"
    reopened = ok(await act(test, task["task_id"], "redo"))
    assert reopened["status"] == "pending"
    assert await claim(api, "live-worker") is None
    leased = await claim(test, "test-worker")
    assert leased["task_id"] == task["task_id"]
    assert leased["is_test"] is True


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"types": [TYPE], "lease_s": 60}, id="missing-worker"),
        pytest.param({"types": [TYPE], "lease_s": 60, "worker": ""}, id="empty-worker"),
        pytest.param({"types": [TYPE], "lease_s": 60, "worker": 7}, id="worker-not-string"),
        pytest.param({"types": [TYPE], "lease_s": 0, "worker": "w1"}, id="lease-zero"),
        pytest.param({"types": [TYPE], "lease_s": "x", "worker": "w1"}, id="lease-string"),
        pytest.param({"types": [TYPE], "lease_s": True, "worker": "w1"}, id="lease-bool"),
        pytest.param({"types": [TYPE], "lease_s": 10**9, "worker": "w1"}, id="lease-huge"),
        pytest.param({"types": TYPE, "lease_s": 60, "worker": "w1"}, id="types-string"),
        pytest.param({"types": [""], "lease_s": 60, "worker": "w1"}, id="types-empty-name"),
        pytest.param({"types": [1], "lease_s": 60, "worker": "w1"}, id="types-number"),
        pytest.param([TYPE], id="body-array"),
    ],
)
async def test_bad_claim_body_answers_400(api: httpx.AsyncClient, body: Any) -> None:
    """A malformed claim is a 400 and leases nothing."""
    task = await create_task(api, TYPE)
    error_of(await api.post("/v1/work/claim", json=body), 400)
    assert await actions(api, task["task_id"]) == ["created"]
    assert (await claim(api))["task_id"] == task["task_id"]


async def test_claim_without_body_answers_400(api: httpx.AsyncClient) -> None:
    """A claim with no body at all is a 400 (the worker id is required)."""
    await create_task(api, TYPE)
    error_of(await api.post("/v1/work/claim"), 400)
    assert (await claim(api)) is not None


@pytest.mark.parametrize(
    ("verb", "body"),
    [
        pytest.param("complete", {"worker": "w1"}, id="complete-without-response"),
        pytest.param("complete", {"response": {}}, id="complete-without-worker"),
        pytest.param("fail", {"worker": "w1"}, id="fail-without-error"),
        pytest.param("fail", {"worker": "w1", "error": "x", "retry": "yes"}, id="fail-retry-str"),
        pytest.param("heartbeat", {"worker": "w1", "lease_s": 0}, id="heartbeat-lease-zero"),
        pytest.param("heartbeat", {"lease_s": 60}, id="heartbeat-without-worker"),
        pytest.param("redo", {"reason": 5}, id="redo-reason-number"),
    ],
)
async def test_bad_worker_body_answers_400(
    api: httpx.AsyncClient, verb: str, body: dict[str, Any]
) -> None:
    """A malformed heartbeat, complete, fail or redo is a 400 and changes nothing."""
    leased = await claimed_task(api, "w1")
    before = await get(api, leased["task_id"])
    error_of(await act(api, leased["task_id"], verb, **body), 400)
    assert await get(api, leased["task_id"]) == before
    assert await actions(api, leased["task_id"]) == ["created", "claimed"]
    assert await claim(api, "w2") is None  # still w1's


async def test_wait_returns_at_once_for_a_finished_task(
    account: Account, client_factory: ClientFactory
) -> None:
    """?wait_s on a task that is no longer pending answers without waiting."""
    test = client_factory(account.test_key)
    task = await create_task(test, TYPE)
    started = time.monotonic()
    got = ok(await test.get(f"/v1/task/{task['task_id']}", params={"wait_s": 2}))
    assert time.monotonic() - started < 0.5
    assert got["status"] == "completed"


async def test_wait_returns_soon_after_the_task_completes(api: httpx.AsyncClient) -> None:
    """A waiting read answers within half a second of another request completing the task."""
    leased = await claimed_task(api, "w1")
    completed_at: list[float] = []

    async def wait() -> tuple[Any, float]:
        answer = await api.get(f"/v1/task/{leased['task_id']}", params={"wait_s": 5})
        return ok(answer), time.monotonic()

    async def complete() -> None:
        await asyncio.sleep(0.3)
        ok(await act(api, leased["task_id"], "complete", worker="w1", response={"done": True}))
        completed_at.append(time.monotonic())

    started = time.monotonic()
    (got, returned_at), _ = await asyncio.gather(wait(), complete())
    assert got["status"] == "completed"
    assert got["response"] == {"done": True}
    assert returned_at - started >= 0.25  # it did wait for the completion
    assert returned_at - completed_at[0] < 0.5


async def test_wait_returns_the_pending_task_after_wait_s(api: httpx.AsyncClient) -> None:
    """When nothing happens, ?wait_s answers the still-pending task after about wait_s."""
    task = await create_task(api, TYPE)
    started = time.monotonic()
    got = ok(await api.get(f"/v1/task/{task['task_id']}", params={"wait_s": 1.5}))
    elapsed = time.monotonic() - started
    assert got["status"] == "pending"
    assert 1.4 <= elapsed < 4


@pytest.mark.parametrize("wait_s", ["61", "abc", "-1", "nan"])
async def test_bad_wait_s_answers_400(api: httpx.AsyncClient, wait_s: str) -> None:
    """wait_s must be a number of seconds from 0 to 60."""
    task = await create_task(api, TYPE)
    started = time.monotonic()
    error_of(await api.get(f"/v1/task/{task['task_id']}", params={"wait_s": wait_s}), 400)
    assert time.monotonic() - started < 0.5


async def test_complete_needs_a_response(api: httpx.AsyncClient) -> None:
    """Completing with a null response is a 400 and the task stays pending."""
    task = await claimed_task(api)
    error_of(await act(api, task["task_id"], "complete", worker="w1", response=None), 400)
    assert (await get(api, task["task_id"]))["status"] == "pending"
    assert "completed" not in await actions(api, task["task_id"])


async def test_fixed_review_needs_a_real_response(
    client_factory: ClientFactory, account: Account
) -> None:
    """A fixed review with a null response is a 400 and the response stays as it was."""
    client = client_factory(account.test_key)
    task = await create_task(client, "echo", x=1)
    response = await client.post(
        f"/v1/task/{task['task_id']}/audit", json={"result": "fixed", "response": None}
    )
    error_of(response, 400)
    after = ok(await client.get(f"/v1/task/{task['task_id']}"))
    assert (after["response"], after["audits"]) == (task["response"], [])
