"""Scale's task endpoints: create, get, cancel, unique_id, metadata, tags, audit."""

from __future__ import annotations

import re

import httpx

from tests.api.support import create_task, error_of, list_tasks, ok
from tests.conftest import Account, AccountFactory, ClientFactory

UNKNOWN_ID = "0" * 24


async def test_create_splits_task_fields_from_params(api: httpx.AsyncClient) -> None:
    """Known top-level fields become task fields and every other field goes into params."""
    task = await create_task(
        api,
        "echo",
        instruction="Label it",
        callback_url="https://example.com/callback",
        metadata={"source": "unit"},
        tags=["a", "b"],
        unique_id="split-1",
        priority=30,
        attachment="https://example.com/cat.png",
        options={"nested": [1, 2]},
    )
    assert re.fullmatch(r"[0-9a-f]{24}", task["task_id"])
    assert task["type"] == "echo"
    assert task["status"] == "pending"
    assert task["params"] == {
        "attachment": "https://example.com/cat.png",
        "options": {"nested": [1, 2]},
    }
    assert task["instruction"] == "Label it"
    assert task["callback_url"] == "https://example.com/callback"
    assert task["metadata"] == {"source": "unit"}
    assert task["tags"] == ["a", "b"]
    assert task["unique_id"] == "split-1"
    assert task["priority"] == 30
    assert task["is_test"] is False
    assert task["response"] is None
    assert task["completed_at"] is None
    assert task["audits"] == []
    assert task["callback_completed"] is False
    assert task["times_redone"] == 0
    for key in ("created_at", "updated_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", task[key])
    assert ok(await api.get(f"/v1/task/{task['task_id']}")) == task


async def test_new_task_has_empty_metadata_and_no_tags_or_unique_id(
    api: httpx.AsyncClient,
) -> None:
    """A task created without them has `metadata == {}` and no `tags` or `unique_id` key."""
    task = await create_task(api, "echo", text="hello")
    assert task["metadata"] == {}
    assert "tags" not in task
    assert "unique_id" not in task
    got = ok(await api.get(f"/v1/task/{task['task_id']}"))
    assert got["metadata"] == {}
    assert "tags" not in got
    assert "unique_id" not in got


async def test_delete_unique_id_removes_the_key(api: httpx.AsyncClient) -> None:
    """DELETE /task/{id}/unique_id drops the key from the task and frees the value."""
    task = await create_task(api, unique_id="to-clear")
    cleared = ok(await api.delete(f"/v1/task/{task['task_id']}/unique_id"))
    assert "unique_id" not in cleared
    assert "unique_id" not in ok(await api.get(f"/v1/task/{task['task_id']}"))
    again = await create_task(api, unique_id="to-clear")
    assert again["task_id"] != task["task_id"]


async def test_unknown_task_answers_404(api: httpx.AsyncClient) -> None:
    """GET of an unknown task id is a 404 in the error shape."""
    error_of(await api.get(f"/v1/task/{UNKNOWN_ID}"), 404)
    error_of(await api.get("/v1/task/not-an-id"), 404)


async def test_another_accounts_task_answers_404(
    api: httpx.AsyncClient, account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """Another account's task is a 404 to read, cancel or change, and stays as it was."""
    task = await create_task(api, metadata={"owner": "me"}, unique_id="mine")
    other = client_factory((await account_factory()).live_key)
    task_path = f"/v1/task/{task['task_id']}"
    error_of(await other.get(task_path), 404)
    error_of(await other.post(f"{task_path}/cancel"), 404)
    error_of(await other.post(f"{task_path}/setMetadata", json={"owner": "them"}), 404)
    error_of(await other.post(f"{task_path}/tags", json=["x"]), 404)
    error_of(await other.delete(f"{task_path}/unique_id"), 404)
    assert ok(await api.get(task_path)) == task


async def test_live_task_is_invisible_to_the_test_key(
    api: httpx.AsyncClient, account: Account, client_factory: ClientFactory
) -> None:
    """The same account's test key cannot see a live task."""
    task = await create_task(api)
    test_client = client_factory(account.test_key)
    error_of(await test_client.get(f"/v1/task/{task['task_id']}"), 404)


async def test_test_key_task_is_completed_with_a_sample_response(
    account: Account, client_factory: ClientFactory
) -> None:
    """A task created with a test key completes in the create with a response of its type."""
    test_client = client_factory(account.test_key)
    task = await create_task(
        test_client,
        "categorization",
        attachment="https://example.com/a.png",
        categories=["cat", "dog"],
    )
    assert task["status"] == "completed"
    assert task["is_test"] is True
    assert task["response"] == {"category": "cat"}
    assert task["completed_at"] is not None
    assert ok(await test_client.get(f"/v1/task/{task['task_id']}")) == task


async def test_cancelling_a_test_task_answers_400(
    account: Account, client_factory: ClientFactory
) -> None:
    """Cancelling an already completed test-environment task is a 400 and changes nothing."""
    test_client = client_factory(account.test_key)
    task = await create_task(test_client, "echo", x=1)
    message = error_of(await test_client.post(f"/v1/task/{task['task_id']}/cancel"), 400)
    assert "completed" in message
    assert ok(await test_client.get(f"/v1/task/{task['task_id']}"))["status"] == "completed"


async def test_cancel_pending_then_again(api: httpx.AsyncClient) -> None:
    """A pending task cancels once; cancelling it again is a 400."""
    task = await create_task(api)
    assert task["status"] == "pending"
    canceled = ok(await api.post(f"/v1/task/{task['task_id']}/cancel"))
    assert canceled["status"] == "canceled"
    assert canceled["task_id"] == task["task_id"]
    message = error_of(await api.post(f"/v1/task/{task['task_id']}/cancel"), 400)
    assert "canceled" in message
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["status"] == "canceled"


async def test_cancel_unknown_task_answers_404(api: httpx.AsyncClient) -> None:
    """Cancelling an unknown task is a 404, not a 400."""
    error_of(await api.post(f"/v1/task/{UNKNOWN_ID}/cancel"), 404)


async def test_cancel_with_clear_unique_id_frees_it(api: httpx.AsyncClient) -> None:
    """cancel?clear_unique_id=true drops the unique_id so a new task can take it."""
    task = await create_task(api, unique_id="reusable")
    canceled = ok(
        await api.post(f"/v1/task/{task['task_id']}/cancel", params={"clear_unique_id": "true"})
    )
    assert canceled["status"] == "canceled"
    assert "unique_id" not in canceled
    again = await create_task(api, unique_id="reusable")
    assert again["unique_id"] == "reusable"
    assert again["task_id"] != task["task_id"]


async def test_cancel_without_clear_keeps_unique_id_taken(api: httpx.AsyncClient) -> None:
    """A plain cancel keeps the unique_id, so reusing it is still a 409."""
    task = await create_task(api, unique_id="kept")
    canceled = ok(await api.post(f"/v1/task/{task['task_id']}/cancel"))
    assert canceled["unique_id"] == "kept"
    error_of(await api.post("/v1/task/echo", json={"unique_id": "kept"}), 409)


async def test_cancel_rejects_a_bad_clear_unique_id(api: httpx.AsyncClient) -> None:
    """A clear_unique_id that is not a boolean is a 400 and the task stays pending."""
    task = await create_task(api)
    error_of(
        await api.post(f"/v1/task/{task['task_id']}/cancel", params={"clear_unique_id": "maybe"}),
        400,
    )
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["status"] == "pending"


async def test_duplicate_unique_id_answers_409(api: httpx.AsyncClient) -> None:
    """Duplicate unique_id answers 409 with Scale's message naming the existing task."""
    first = await create_task(api, "echo", unique_id="dup-1", x=1)
    response = await api.post("/v1/task/echo", json={"unique_id": "dup-1", "x": 2})
    message = error_of(response, 409)
    assert message == (
        f'The unique_id ("dup-1") is already used for a different task ({first["task_id"]}).'
    )
    answer = await list_tasks(api, unique_id="dup-1")
    assert answer["total"] == 1
    assert answer["docs"][0]["params"] == {"x": 1}


async def test_unique_id_is_unique_across_types_and_projects(api: httpx.AsyncClient) -> None:
    """A unique_id taken by one task type is taken for every other type of the account."""
    await create_task(api, "echo", unique_id="cross-type")
    error_of(await api.post("/v1/task/other", json={"unique_id": "cross-type"}), 409)


async def test_unique_id_is_scoped_to_account_and_environment(
    api: httpx.AsyncClient,
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """The same unique_id is free in another account and in the test environment."""
    live = await create_task(api, unique_id="shared")
    elsewhere = await create_task(
        client_factory((await account_factory()).live_key), unique_id="shared"
    )
    in_test = await create_task(client_factory(account.test_key), unique_id="shared")
    assert len({live["task_id"], elsewhere["task_id"], in_test["task_id"]}) == 3
    assert (await list_tasks(api, unique_id="shared"))["total"] == 1


async def test_set_unique_id(api: httpx.AsyncClient) -> None:
    """POST /task/{id}/unique_id sets it, and the list filter finds the task by it."""
    task = await create_task(api)
    updated = ok(await api.post(f"/v1/task/{task['task_id']}/unique_id", json={"unique_id": "n"}))
    assert updated["unique_id"] == "n"
    answer = await list_tasks(api, unique_id="n")
    assert [doc["task_id"] for doc in answer["docs"]] == [task["task_id"]]


async def test_set_unique_id_to_a_taken_one_answers_409(api: httpx.AsyncClient) -> None:
    """Setting a unique_id another task holds is a 409 and changes neither task."""
    a = await create_task(api, unique_id="held-a")
    b = await create_task(api, unique_id="held-b")
    response = await api.post(f"/v1/task/{b['task_id']}/unique_id", json={"unique_id": "held-a"})
    message = error_of(response, 409)
    assert message == (
        f'The unique_id ("held-a") is already used for a different task ({a["task_id"]}).'
    )
    assert ok(await api.get(f"/v1/task/{a['task_id']}"))["unique_id"] == "held-a"
    assert ok(await api.get(f"/v1/task/{b['task_id']}"))["unique_id"] == "held-b"


async def test_set_unique_id_needs_a_string(api: httpx.AsyncClient) -> None:
    """A missing or non-string unique_id is a 400 and leaves the task alone."""
    task = await create_task(api, unique_id="orig")
    path = f"/v1/task/{task['task_id']}/unique_id"
    error_of(await api.post(path, json={}), 400)
    error_of(await api.post(path, json={"unique_id": 7}), 400)
    error_of(await api.post(path, json={"unique_id": ""}), 400)
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["unique_id"] == "orig"


async def test_set_metadata_replaces_it(api: httpx.AsyncClient) -> None:
    """setMetadata replaces the whole metadata object."""
    task = await create_task(api, metadata={"a": 1, "b": 2})
    updated = ok(await api.post(f"/v1/task/{task['task_id']}/setMetadata", json={"c": [3]}))
    assert updated["metadata"] == {"c": [3]}
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["metadata"] == {"c": [3]}


async def test_set_metadata_needs_an_object(api: httpx.AsyncClient) -> None:
    """A setMetadata body that is not a JSON object is a 400 and the metadata stays."""
    task = await create_task(api, metadata={"a": 1})
    path = f"/v1/task/{task['task_id']}/setMetadata"
    error_of(await api.post(path, json=["a"]), 400)
    bad = await api.post(path, content=b"{not json", headers={"content-type": "application/json"})
    error_of(bad, 400)
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["metadata"] == {"a": 1}


async def test_tags_set_add_and_delete(api: httpx.AsyncClient) -> None:
    """POST sets tags, PUT adds ignoring present ones, DELETE removes ignoring absent ones."""
    task = await create_task(api)
    path = f"/v1/task/{task['task_id']}/tags"
    assert ok(await api.post(path, json=["a", "b"]))["tags"] == ["a", "b"]
    assert ok(await api.put(path, json=["b", "c"]))["tags"] == ["a", "b", "c"]
    assert ok(await api.request("DELETE", path, json=["a", "zzz"]))["tags"] == ["b", "c"]
    assert ok(await api.post(path, json=["z"]))["tags"] == ["z"]
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["tags"] == ["z"]


async def test_more_than_five_tags_answers_400(api: httpx.AsyncClient) -> None:
    """Setting or adding past five tags is a 400 and the task keeps its tags."""
    task = await create_task(api, tags=["t1", "t2", "t3", "t4"])
    path = f"/v1/task/{task['task_id']}/tags"
    error_of(await api.post(path, json=["a", "b", "c", "d", "e", "f"]), 400)
    error_of(await api.put(path, json=["n1", "n2"]), 400)
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["tags"] == ["t1", "t2", "t3", "t4"]
    assert ok(await api.put(path, json=["t1", "n1"]))["tags"] == ["t1", "t2", "t3", "t4", "n1"]


async def test_tags_body_must_be_a_list_of_strings(api: httpx.AsyncClient) -> None:
    """A tags body that is not an array of strings is a 400 and adds no `tags` key."""
    task = await create_task(api)
    path = f"/v1/task/{task['task_id']}/tags"
    error_of(await api.post(path, json="a"), 400)
    error_of(await api.post(path, json={"tags": ["a"]}), 400)
    error_of(await api.put(path, json=[1, 2]), 400)
    assert "tags" not in ok(await api.get(f"/v1/task/{task['task_id']}"))


async def test_audit_fills_audits_and_review_status(
    account: Account, client_factory: ClientFactory
) -> None:
    """Auditing a completed task appends to `audits` and sets `customer_review_status`."""
    test_client = client_factory(account.test_key)
    task = await create_task(test_client, "echo", x=1)
    path = f"/v1/task/{task['task_id']}/audit"
    accepted = ok(await test_client.post(path, json={"accepted": True, "comments": "good"}))
    assert accepted["customer_review_status"] == "accepted"
    assert [(a["audit_result"], a["comments"]) for a in accepted["audits"]] == [
        ("accepted", "good")
    ]
    assert accepted["audits"][0]["audit_source"] == "customer"
    assert accepted["audits"][0]["audited_at"] is not None
    rejected = ok(await test_client.post(path, json={"accepted": False}))
    assert rejected["customer_review_status"] == "rejected"
    assert [(a["audit_result"], a["comments"]) for a in rejected["audits"]] == [
        ("accepted", "good"),
        ("rejected", None),
    ]
    assert ok(await test_client.get(f"/v1/task/{task['task_id']}")) == rejected


async def test_audit_of_a_pending_task_answers_409(api: httpx.AsyncClient) -> None:
    """Auditing a task that is not completed is a 409 and records nothing."""
    task = await create_task(api)
    error_of(await api.post(f"/v1/task/{task['task_id']}/audit", json={"accepted": True}), 409)
    got = ok(await api.get(f"/v1/task/{task['task_id']}"))
    assert got["audits"] == []
    assert got["customer_review_status"] is None


async def test_audit_needs_a_boolean_accepted(
    account: Account, client_factory: ClientFactory
) -> None:
    """An audit without a boolean `accepted` is a 400 and records nothing."""
    test_client = client_factory(account.test_key)
    task = await create_task(test_client)
    path = f"/v1/task/{task['task_id']}/audit"
    error_of(await test_client.post(path, json={"comments": "hm"}), 400)
    error_of(await test_client.post(path, json={"accepted": "yes"}), 400)
    assert ok(await test_client.get(f"/v1/task/{task['task_id']}"))["audits"] == []
