"""The audit trail and reviews: task events, `GET /v1/events`, audits and `GET /v1/audits`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from hookline.models import ALL_SCOPES, Environment
from hookline.store import Store
from tests.api.support import create_task, error_of, ok
from tests.conftest import Account, AccountFactory, ClientFactory, FakeClock

TYPE = "label"
EVENT_KEYS = {
    "id",
    "task_id",
    "at",
    "actor",
    "action",
    "from_status",
    "to_status",
    "reason",
    "details",
}
AUDIT_KEYS = {
    "id",
    "task_id",
    "project",
    "audited_by",
    "audited_at",
    "audit_time_secs",
    "audit_result",
    "audit_source",
    "comments",
}


@pytest.fixture
def store(clocked_store: Store) -> Store:
    """Every client and account of these tests reads the time from `clock`, which moves
    only when a test says so."""
    return clocked_store


async def work(client: httpx.AsyncClient, task_id: str, worker: str, response: Any) -> None:
    """Claim the (only pending) task as `worker` and complete it with `response`."""
    answer = ok(
        await client.post("/v1/work/claim", json={"types": [TYPE], "worker": worker, "lease_s": 60})
    )
    assert answer["task"]["task_id"] == task_id
    ok(
        await client.post(
            f"/v1/task/{task_id}/complete", json={"worker": worker, "response": response}
        )
    )


async def task_events(client: httpx.AsyncClient, task_id: str, **params: Any) -> list[Any]:
    page = ok(await client.get(f"/v1/task/{task_id}/events", params=params))
    assert set(page) == {"docs", "has_more", "next_token"}
    return list(page["docs"])


async def walk(client: httpx.AsyncClient, path: str, **params: Any) -> list[Any]:
    """Every doc of a paginated query, following next_token to the end."""
    docs: list[Any] = []
    token = None
    for _ in range(100):
        query = dict(params) | ({"next_token": token} if token else {})
        page = ok(await client.get(path, params=query))
        assert set(page) == {"docs", "has_more", "next_token"}
        docs.extend(page["docs"])
        if not page["has_more"]:
            assert page["next_token"] is None
            return docs
        assert page["next_token"]
        token = page["next_token"]
    raise AssertionError("pagination never ended")


async def audit(client: httpx.AsyncClient, task_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/task/{task_id}/audit", json=body)


async def test_task_events_tell_the_whole_story(api: httpx.AsyncClient, account: Account) -> None:
    """A worked, redone and reworked task has every step in its trail, in order, by its actor."""
    key = account.live.key_id
    task = await create_task(api, TYPE)
    task_id = task["task_id"]
    await work(api, task_id, "w1", {"v": 1})
    ok(await api.post(f"/v1/task/{task_id}/redo", json={"reason": "wrong label"}))
    await work(api, task_id, "w2", {"v": 2})

    events = await task_events(api, task_id)
    assert all(set(e) == EVENT_KEYS for e in events)
    assert all(e["task_id"] == task_id for e in events)
    story = [(e["action"], e["actor"], e["from_status"], e["to_status"]) for e in events]
    assert story == [
        ("created", key, None, "pending"),
        ("claimed", "w1", None, None),
        ("completed", "w1", "pending", "completed"),
        ("redone", key, "completed", "pending"),
        ("claimed", "w2", None, None),
        ("completed", "w2", "pending", "completed"),
    ]
    assert events[1]["details"] == {"worker": "w1", "lease_s": 60, "attempt": 1}
    assert events[3]["reason"] == "wrong label"
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    stamps = [datetime.fromisoformat(e["at"]) for e in events]
    assert stamps == sorted(stamps)


async def test_task_events_record_changes_with_their_actor(
    api: httpx.AsyncClient, account: Account
) -> None:
    """Metadata, tags, unique_id, cancel and audit changes are each recorded by the key that made them."""
    key = account.live.key_id
    task = await create_task(api, TYPE, tags=["a"], unique_id="u1")
    task_id = task["task_id"]
    ok(await api.post(f"/v1/task/{task_id}/setMetadata", json={"k": 1}))
    ok(await api.post(f"/v1/task/{task_id}/tags", json=["b", "c"]))
    ok(await api.put(f"/v1/task/{task_id}/tags", json=["d"]))
    ok(await api.request("DELETE", f"/v1/task/{task_id}/tags", json=["b"]))
    ok(await api.post(f"/v1/task/{task_id}/unique_id", json={"unique_id": "u2"}))
    ok(await api.delete(f"/v1/task/{task_id}/unique_id"))
    ok(await api.post(f"/v1/task/{task_id}/cancel"))

    events = await task_events(api, task_id)
    assert [e["action"] for e in events] == [
        "created",
        "metadata_set",
        "tags_changed",
        "tags_changed",
        "tags_changed",
        "unique_id_changed",
        "unique_id_changed",
        "canceled",
    ]
    assert {e["actor"] for e in events} == {key}
    tags = [(e["details"]["from"], e["details"]["to"]) for e in events[2:5]]
    assert tags == [
        (["a"], ["b", "c"]),
        (["b", "c"], ["b", "c", "d"]),
        (["b", "c", "d"], ["c", "d"]),
    ]
    unique = [(e["details"]["from"], e["details"]["to"]) for e in events[5:7]]
    assert unique == [("u1", "u2"), ("u2", None)]
    assert (events[7]["from_status"], events[7]["to_status"]) == ("pending", "canceled")

    reviewed = (await create_task(api, TYPE))["task_id"]
    await work(api, reviewed, "w1", {"v": 1})
    ok(await audit(api, reviewed, accepted=False, comments="blurry"))
    last = (await task_events(api, reviewed))[-1]
    assert last["action"] == "audited"
    assert last["actor"] == key
    assert last["reason"] == "blurry"
    assert last["details"]["result"] == "rejected"
    assert last["details"]["source"] == "customer"


async def test_task_events_paginate(api: httpx.AsyncClient) -> None:
    """A task's trail pages with limit and next_token, oldest first, each event once."""
    task_id = (await create_task(api, TYPE))["task_id"]
    for i in range(4):
        ok(await api.post(f"/v1/task/{task_id}/setMetadata", json={"i": i}))
    everything = await task_events(api, task_id)
    assert len(everything) == 5
    paged = await walk(api, f"/v1/task/{task_id}/events", limit=2)
    assert paged == everything


async def test_task_events_of_another_account_answer_404(
    api: httpx.AsyncClient, account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """Another account's task, or an unknown one, has no trail to read: 404."""
    task_id = (await create_task(api, TYPE))["task_id"]
    other = client_factory((await account_factory()).live_key)
    error_of(await other.get(f"/v1/task/{task_id}/events"), 404)
    error_of(await api.get(f"/v1/task/{'0' * 24}/events"), 404)
    error_of(await api.get(f"/v1/task/{task_id}/events", params={"since": "2020-01-01"}), 400)


async def test_events_filter_by_task_action_and_actor(
    api: httpx.AsyncClient, account: Account
) -> None:
    """GET /v1/events narrows by task_id, a comma list of actions, and actor."""
    first = (await create_task(api, TYPE))["task_id"]
    await work(api, first, "w1", {"v": 1})
    second = (await create_task(api, TYPE))["task_id"]
    await work(api, second, "w2", {"v": 2})

    by_task = await walk(api, "/v1/events", task_id=second)
    assert [e["action"] for e in by_task] == ["created", "claimed", "completed"]
    assert {e["task_id"] for e in by_task} == {second}

    by_action = await walk(api, "/v1/events", action="created,completed")
    assert sorted((e["task_id"], e["action"]) for e in by_action) == sorted(
        [(first, "created"), (first, "completed"), (second, "created"), (second, "completed")]
    )

    by_actor = await walk(api, "/v1/events", actor="w1")
    assert [(e["task_id"], e["action"]) for e in by_actor] == [
        (first, "claimed"),
        (first, "completed"),
    ]
    by_key = await walk(api, "/v1/events", actor=account.live.key_id)
    assert {e["action"] for e in by_key} == {"created"}
    assert len(by_key) == 2

    both = await walk(api, "/v1/events", task_id=first, action="completed", actor="w1")
    assert len(both) == 1
    assert await walk(api, "/v1/events", task_id=first, actor="w2") == []


async def test_events_filter_by_project(api: httpx.AsyncClient) -> None:
    """GET /v1/events?project= answers only events of that project's tasks."""
    ok(await api.post("/v1/projects", json={"type": TYPE, "name": "p1"}))
    inside = (await create_task(api, TYPE, project="p1"))["task_id"]
    outside = (await create_task(api, TYPE))["task_id"]
    ok(await api.post(f"/v1/task/{inside}/setMetadata", json={"x": 1}))
    ok(await api.post(f"/v1/task/{outside}/setMetadata", json={"x": 1}))
    found = await walk(api, "/v1/events", project="p1")
    assert [(e["task_id"], e["action"]) for e in found] == [
        (inside, "created"),
        (inside, "metadata_set"),
    ]
    assert await walk(api, "/v1/events", project="nope") == []


async def test_events_filter_by_time(api: httpx.AsyncClient, clock: FakeClock) -> None:
    """since and until bound the events by when they happened."""

    def mark() -> datetime:
        clock.advance(0.02)
        now = clock()
        clock.advance(0.02)
        return now

    early = (await create_task(api, TYPE))["task_id"]
    after_early = mark()
    middle = (await create_task(api, TYPE))["task_id"]
    after_middle = mark()
    late = (await create_task(api, TYPE))["task_id"]

    async def tasks_of(**params: Any) -> list[str]:
        return [e["task_id"] for e in await walk(api, "/v1/events", **params)]

    assert await tasks_of(since=after_early.isoformat()) == [middle, late]
    assert await tasks_of(until=after_middle.isoformat()) == [early, middle]
    assert await tasks_of(since=after_early.isoformat(), until=after_middle.isoformat()) == [middle]
    error_of(await api.get("/v1/events", params={"since": "yesterday"}), 400)


async def test_events_until_an_events_own_time_includes_it(api: httpx.AsyncClient) -> None:
    """until set to an event's own `at` (as the API shows it) includes that event."""
    for _ in range(3):
        task_id = (await create_task(api, TYPE))["task_id"]
        (created,) = await task_events(api, task_id)
        found = await walk(api, "/v1/events", task_id=task_id, until=created["at"])
        assert [e["id"] for e in found] == [created["id"]]


async def test_events_paginate_through_every_event(api: httpx.AsyncClient) -> None:
    """Walking /v1/events with limit and next_token yields each event exactly once, in order."""
    for _ in range(4):
        task_id = (await create_task(api, TYPE))["task_id"]
        ok(await api.post(f"/v1/task/{task_id}/setMetadata", json={"n": 1}))
        ok(await api.post(f"/v1/task/{task_id}/cancel"))
    everything = ok(await api.get("/v1/events"))
    assert everything["has_more"] is False
    assert len(everything["docs"]) == 12
    for limit in (1, 5, 12):
        paged = await walk(api, "/v1/events", limit=limit)
        assert paged == everything["docs"]
    first_page = ok(await api.get("/v1/events", params={"limit": 5, "action": "canceled"}))
    assert len(first_page["docs"]) == 4
    assert first_page["has_more"] is False
    assert first_page["next_token"] is None


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"status": "pending"}, id="unknown-parameter"),
        pytest.param({"next_token": "garbage!"}, id="bad-token"),
        pytest.param({"next_token": "YmVmb3JlOjE"}, id="foreign-token"),
        pytest.param({"limit": "0"}, id="limit-zero"),
        pytest.param({"limit": "many"}, id="limit-word"),
        pytest.param({"until": "31/12/2020"}, id="bad-until"),
        pytest.param({"action": "bogus"}, id="unknown-action"),
        pytest.param({"action": "created,bogus"}, id="unknown-action-in-comma-list"),
    ],
)
async def test_events_reject_bad_queries(api: httpx.AsyncClient, params: dict[str, str]) -> None:
    """An unknown parameter, a token this server did not issue, or a bad limit is a 400."""
    await create_task(api, TYPE)
    error_of(await api.get("/v1/events", params=params), 400)


async def test_unknown_action_names_the_allowed_actions(api: httpx.AsyncClient) -> None:
    """GET /events?action=bogus is a 400 listing the actions, not an empty list."""
    message = error_of(await api.get("/v1/events", params={"action": "bogus"}), 400)
    assert "Parameter 'action' must be a comma list of" in message
    assert "created" in message
    assert "callback_delivered" in message
    assert "'bogus'" in message


async def test_events_never_show_other_accounts(
    api: httpx.AsyncClient,
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """Another account's (or environment's) events never appear, whatever the filter."""
    mine = (await create_task(api, TYPE))["task_id"]
    intruder = await account_factory()
    other = client_factory(intruder.live_key)
    theirs = (await create_task(other, TYPE))["task_id"]
    await work(other, theirs, "w1", {"v": 1})
    test_task = (await create_task(client_factory(account.test_key), TYPE))["task_id"]

    everything = await walk(api, "/v1/events")
    assert {e["task_id"] for e in everything} == {mine}
    assert await walk(api, "/v1/events", task_id=theirs) == []
    assert await walk(api, "/v1/events", task_id=test_task) == []
    assert await walk(api, "/v1/events", actor=intruder.live.key_id) == []
    assert await walk(api, "/v1/events", actor="w1") == []
    assert {e["task_id"] for e in await walk(other, "/v1/events")} == {theirs}


async def test_audits_fill_the_task(account: Account, client_factory: ClientFactory) -> None:
    """Customer and reviewer audits append to `audits`; the review status follows the latest."""
    test = client_factory(account.test_key)
    task = await create_task(test, TYPE)
    assert task["status"] == "completed"
    assert task["customer_review_status"] is None
    task_id = task["task_id"]

    accepted = ok(await audit(test, task_id, accepted=True))
    assert accepted["customer_review_status"] == "accepted"
    assert [a["audit_result"] for a in accepted["audits"]] == ["accepted"]
    assert accepted["audits"][0]["audit_source"] == "customer"
    assert accepted["audits"][0]["audited_by"] == account.test.email
    assert accepted["response"] == task["response"]

    fixed = ok(
        await audit(
            test,
            task_id,
            result="fixed",
            comments="wrong category",
            audit_time_secs=12,
            response={"category": "dog"},
        )
    )
    assert fixed["customer_review_status"] == "fixed"
    assert fixed["response"] == {"category": "dog"}
    review = fixed["audits"][1]
    assert review["audit_result"] == "fixed"
    assert review["audit_source"] == "reviewer"
    assert review["comments"] == "wrong category"
    assert review["audit_time_secs"] == 12
    assert review["audited_at"] is not None

    rejected = ok(await audit(test, task_id, result="rejected"))
    assert rejected["customer_review_status"] == "rejected"
    assert [a["audit_result"] for a in rejected["audits"]] == ["accepted", "fixed", "rejected"]
    assert rejected["response"] == {"category": "dog"}

    got = ok(await test.get(f"/v1/task/{task_id}"))
    assert got["audits"] == rejected["audits"]
    assert got["customer_review_status"] == "rejected"
    assert got["response"] == {"category": "dog"}
    audited = [e for e in await task_events(test, task_id) if e["action"] == "audited"]
    assert [e["details"]["result"] for e in audited] == ["accepted", "fixed", "rejected"]
    assert {e["actor"] for e in audited} == {account.test.key_id}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"result": "meh"}, id="unknown-result"),
        pytest.param({"result": "accepted", "response": {"x": 1}}, id="accepted-with-response"),
        pytest.param({"result": "rejected", "response": {"x": 1}}, id="rejected-with-response"),
        pytest.param({"result": "fixed", "audit_time_secs": -1}, id="negative-time"),
        pytest.param({"result": "fixed", "audit_time_secs": "12"}, id="time-as-string"),
        pytest.param({"result": "fixed", "audit_time_secs": 604_801}, id="over-a-week"),
        pytest.param({"result": "fixed", "audit_time_secs": 1e308}, id="time-1e308"),
        pytest.param({"result": "fixed", "comments": 5}, id="comments-number"),
        pytest.param({"accepted": "yes"}, id="accepted-not-bool"),
        pytest.param({}, id="empty"),
    ],
)
async def test_bad_audit_answers_400(
    account: Account, client_factory: ClientFactory, body: dict[str, Any]
) -> None:
    """A malformed audit is a 400 and records no review."""
    test = client_factory(account.test_key)
    task = await create_task(test, TYPE)
    error_of(await audit(test, task["task_id"], **body), 400)
    got = ok(await test.get(f"/v1/task/{task['task_id']}"))
    assert got["audits"] == []
    assert got["customer_review_status"] is None
    assert got["response"] == task["response"]
    assert "audited" not in [e["action"] for e in await task_events(test, task["task_id"])]


@pytest.mark.parametrize("seconds", [0, 0.5, 604_800])
async def test_audit_time_from_zero_to_a_week_is_recorded(
    account: Account, client_factory: ClientFactory, seconds: float
) -> None:
    """audit_time_secs from 0 to one week is accepted and read back."""
    test = client_factory(account.test_key)
    task = await create_task(test, TYPE)
    reviewed = ok(await audit(test, task["task_id"], result="accepted", audit_time_secs=seconds))
    assert reviewed["audits"][0]["audit_time_secs"] == seconds


async def test_audit_time_over_a_week_names_the_bound(
    account: Account, client_factory: ClientFactory
) -> None:
    """The 400 for a too-long audit_time_secs names the field and its range."""
    test = client_factory(account.test_key)
    task = await create_task(test, TYPE)
    message = error_of(await audit(test, task["task_id"], result="fixed", audit_time_secs=1e9), 400)
    assert "'audit_time_secs' must be between 0 and 604800" in message


async def test_auditing_a_pending_task_answers_409(
    api: httpx.AsyncClient, account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """Only completed tasks can be audited: a pending one is a 409, another account's a 404."""
    task_id = (await create_task(api, TYPE))["task_id"]
    error_of(await audit(api, task_id, accepted=True), 409)
    error_of(await audit(api, task_id, result="accepted"), 409)
    got = ok(await api.get(f"/v1/task/{task_id}"))
    assert got["audits"] == []
    assert got["customer_review_status"] is None
    other = client_factory((await account_factory()).live_key)
    error_of(await audit(other, task_id, accepted=True), 404)


async def test_audits_query_filters_and_paginates(
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
    store: Store,
    clock: FakeClock,
) -> None:
    """GET /v1/audits narrows by result, auditor, project and time, and pages with next_token."""
    test = client_factory(account.test_key)
    reviewer_key = await store.accounts.create_key(
        account=account.name,
        environment=Environment.TEST,
        scopes=ALL_SCOPES,
        email="reviewer@example.com",
    )
    reviewer = client_factory(reviewer_key)
    ok(await test.post("/v1/projects", json={"type": TYPE, "name": "p1"}))
    in_project = (await create_task(test, TYPE, project="p1"))["task_id"]
    loose = (await create_task(test, TYPE))["task_id"]

    ok(await audit(test, in_project, accepted=True))
    ok(await audit(reviewer, in_project, result="fixed", response={"category": "x"}))
    clock.advance(0.02)
    middle = clock()
    clock.advance(0.02)
    ok(await audit(test, loose, accepted=False))
    ok(await audit(reviewer, loose, result="accepted", comments="fine"))
    ok(await audit(reviewer, loose, result="fixed"))

    everything = await walk(test, "/v1/audits")
    assert all(set(doc) == AUDIT_KEYS for doc in everything)
    assert [(d["task_id"], d["audit_result"]) for d in everything] == [
        (in_project, "accepted"),
        (in_project, "fixed"),
        (loose, "rejected"),
        (loose, "accepted"),
        (loose, "fixed"),
    ]
    assert [d["project"] for d in everything] == ["p1", "p1", None, None, None]
    ids = [d["id"] for d in everything]
    assert ids == sorted(ids)

    def pairs(docs: list[Any]) -> list[tuple[str, str]]:
        return [(d["task_id"], d["audit_result"]) for d in docs]

    assert pairs(await walk(test, "/v1/audits", result="fixed,rejected")) == [
        (in_project, "fixed"),
        (loose, "rejected"),
        (loose, "fixed"),
    ]
    by_reviewer = await walk(test, "/v1/audits", auditor="reviewer@example.com")
    assert pairs(by_reviewer) == [(in_project, "fixed"), (loose, "accepted"), (loose, "fixed")]
    assert {d["audited_by"] for d in by_reviewer} == {"reviewer@example.com"}
    by_owner = await walk(test, "/v1/audits", auditor=account.test.email)
    assert pairs(by_owner) == [(in_project, "accepted"), (loose, "rejected")]
    assert pairs(await walk(test, "/v1/audits", project="p1")) == [
        (in_project, "accepted"),
        (in_project, "fixed"),
    ]
    assert pairs(await walk(test, "/v1/audits", since=middle.isoformat())) == pairs(everything[2:])
    assert pairs(await walk(test, "/v1/audits", until=middle.isoformat())) == pairs(everything[:2])
    assert pairs(await walk(test, "/v1/audits", result="accepted", since=middle.isoformat())) == [
        (loose, "accepted")
    ]

    for limit in (1, 2, 5):
        assert await walk(test, "/v1/audits", limit=limit) == everything
    page = ok(await test.get("/v1/audits", params={"limit": 2}))
    assert page["has_more"] is True
    assert page["docs"] == everything[:2]

    other = client_factory((await account_factory()).test_key)
    assert await walk(other, "/v1/audits") == []
    assert await walk(client_factory(account.live_key), "/v1/audits") == []


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"result": "great"}, id="unknown-result"),
        pytest.param({"status": "fixed"}, id="unknown-parameter"),
        pytest.param({"next_token": "%%%"}, id="bad-token"),
        pytest.param({"since": "soon"}, id="bad-since"),
    ],
)
async def test_audits_reject_bad_queries(api: httpx.AsyncClient, params: dict[str, str]) -> None:
    """An unknown result or parameter, a bad token or a bad time is a 400."""
    error_of(await api.get("/v1/audits", params=params), 400)
