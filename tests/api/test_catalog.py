"""Scale's project and batch endpoints, and tasks that inherit from them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from tests.api.support import create_task, error_of, ok
from tests.conftest import Account, AccountFactory, ClientFactory


async def create_project(
    client: httpx.AsyncClient, name: str, task_type: str = "echo", **params: Any
) -> Any:
    """Create a project through the API; the project object."""
    return ok(
        await client.post("/v1/projects", json={"type": task_type, "name": name, "params": params})
    )


async def create_batch(client: httpx.AsyncClient, name: str, project: str, **body: Any) -> Any:
    """Create a batch through the API; the batch object."""
    return ok(await client.post("/v1/batches", json={"name": name, "project": project, **body}))


def path_name(name: str) -> str:
    """A name quoted as the official client puts it in a path."""
    return quote(name, safe="")


async def test_create_and_get_project(api: httpx.AsyncClient) -> None:
    """A created project reads back with its params and a version-0 param_history."""
    project = await create_project(api, "proj", instruction="Label", size=3)
    assert project["name"] == "proj"
    assert project["type"] == "echo"
    assert project["params"] == {"instruction": "Label", "size": 3}
    assert [v["version"] for v in project["param_history"]] == [0]
    assert project["param_history"][0]["size"] == 3
    assert ok(await api.get("/v1/projects/proj")) == project


async def test_unknown_project_answers_404(api: httpx.AsyncClient) -> None:
    """Getting an unknown project is a 404."""
    error_of(await api.get("/v1/projects/missing"), 404)
    error_of(await api.post("/v1/projects/missing/setParams", json={"a": 1}), 404)


async def test_list_projects_is_a_bare_array_of_own_projects(
    api: httpx.AsyncClient,
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """GET /projects answers a bare JSON array of the key's own projects."""
    first = await create_project(api, "one")
    second = await create_project(api, "two")
    await create_project(client_factory((await account_factory()).live_key), "theirs")
    await create_project(client_factory(account.test_key), "in-test")
    assert ok(await api.get("/v1/projects")) == [first, second]


async def test_set_params_merges_and_grows_history(api: httpx.AsyncClient) -> None:
    """setParams merges over the current params and appends versions 1, 2, ..."""
    await create_project(api, "versioned", a=1, b=1)
    v1 = ok(await api.post("/v1/projects/versioned/setParams", json={"b": 2, "c": 2}))
    assert v1["params"] == {"a": 1, "b": 2, "c": 2}
    v2 = ok(await api.post("/v1/projects/versioned/setParams", json={"a": 3}))
    assert v2["params"] == {"a": 3, "b": 2, "c": 2}
    assert [v["version"] for v in v2["param_history"]] == [0, 1, 2]
    assert [v["b"] for v in v2["param_history"]] == [1, 2, 2]
    assert ok(await api.get("/v1/projects/versioned")) == v2


async def test_taken_project_name_answers_409(api: httpx.AsyncClient) -> None:
    """Creating a project under a taken name is a 409 and keeps the first one."""
    first = await create_project(api, "taken", a=1)
    response = await api.post(
        "/v1/projects", json={"type": "other", "name": "taken", "params": {"a": 2}}
    )
    error_of(response, 409)
    assert ok(await api.get("/v1/projects/taken")) == first


async def test_project_name_is_free_in_another_account(
    api: httpx.AsyncClient, account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """Project names are per account."""
    await create_project(api, "common")
    other = client_factory((await account_factory()).live_key)
    assert (await create_project(other, "common", b=1))["params"] == {"b": 1}
    assert ok(await api.get("/v1/projects/common"))["params"] == {}


async def test_project_needs_name_and_type(api: httpx.AsyncClient) -> None:
    """A project without a name or type, or with non-object params, is a 400."""
    error_of(await api.post("/v1/projects", json={"type": "echo"}), 400)
    error_of(await api.post("/v1/projects", json={"name": "x"}), 400)
    error_of(await api.post("/v1/projects", json={"name": "x", "type": "e", "params": [1]}), 400)
    assert ok(await api.get("/v1/projects")) == []


async def test_names_with_slashes_route_as_one_segment(api: httpx.AsyncClient) -> None:
    """Project and batch names containing '/' work when sent as %2F."""
    name = "team/a b"
    await create_project(api, name, x=1)
    assert ok(await api.get(f"/v1/projects/{path_name(name)}"))["name"] == name
    updated = ok(await api.post(f"/v1/projects/{path_name(name)}/setParams", json={"x": 2}))
    assert updated["params"] == {"x": 2}
    batch_name = "2024/06/run"
    await create_batch(api, batch_name, name)
    assert ok(await api.get(f"/v1/batches/{path_name(batch_name)}"))["project"] == name
    finalized = ok(await api.post(f"/v1/batches/{path_name(batch_name)}/finalize"))
    assert finalized["status"] == "in_progress"
    metadata = ok(await api.post(f"/v1/batches/{path_name(batch_name)}/setMetadata", json={"m": 1}))
    assert metadata["metadata"] == {"m": 1}


async def test_create_and_get_batch(api: httpx.AsyncClient) -> None:
    """A live batch is created staging and reads back the same."""
    await create_project(api, "p")
    batch = await create_batch(
        api, "b", "p", callback="https://example.com/done", metadata={"k": "v"}
    )
    assert batch["name"] == "b"
    assert batch["project"] == "p"
    assert batch["status"] == "staging"
    assert batch["callback"] == "https://example.com/done"
    assert batch["metadata"] == {"k": "v"}
    assert ok(await api.get("/v1/batches/b")) == batch


async def test_batch_for_an_unknown_project_answers_400(api: httpx.AsyncClient) -> None:
    """A batch naming an unknown project is a 400 and is not created."""
    message = error_of(await api.post("/v1/batches", json={"name": "b", "project": "nope"}), 400)
    assert "nope" in message
    error_of(await api.get("/v1/batches/b"), 404)


async def test_taken_batch_name_answers_409(api: httpx.AsyncClient) -> None:
    """Creating a batch under a taken name is a 409."""
    await create_project(api, "p")
    first = await create_batch(api, "b", "p")
    error_of(await api.post("/v1/batches", json={"name": "b", "project": "p"}), 409)
    assert ok(await api.get("/v1/batches/b")) == first


async def test_batch_callback_must_be_a_url_or_email(api: httpx.AsyncClient) -> None:
    """A batch callback that is neither an http(s) URL nor an email address is a 400."""
    await create_project(api, "p")
    error_of(
        await api.post("/v1/batches", json={"name": "b", "project": "p", "callback": "x"}), 400
    )
    assert (await create_batch(api, "b", "p", callback="ops@example.com"))["callback"] == (
        "ops@example.com"
    )


async def test_list_batches_pages_by_offset(api: httpx.AsyncClient) -> None:
    """GET /batches answers docs, totalDocs, limit, offset and has_more, paged by offset."""
    await create_project(api, "p")
    for name in ("b1", "b2", "b3"):
        await create_batch(api, name, "p")
    first = ok(await api.get("/v1/batches", params={"limit": 2}))
    assert set(first) == {"docs", "totalDocs", "limit", "offset", "has_more"}
    assert (first["totalDocs"], first["limit"], first["offset"], first["has_more"]) == (
        3,
        2,
        0,
        True,
    )
    second = ok(await api.get("/v1/batches", params={"limit": 2, "offset": 2}))
    assert (second["offset"], second["has_more"], len(second["docs"])) == (2, False, 1)
    names = [b["name"] for b in first["docs"] + second["docs"]]
    assert sorted(names) == ["b1", "b2", "b3"]
    error_of(await api.get("/v1/batches", params={"colour": "red"}), 400)
    error_of(await api.get("/v1/batches", params={"offset": "-1"}), 400)


async def test_list_batches_filters_by_project_and_status(api: httpx.AsyncClient) -> None:
    """GET /batches narrows by project and status, and totalDocs follows."""
    await create_project(api, "p")
    await create_project(api, "q")
    await create_batch(api, "in-p", "p")
    await create_batch(api, "in-q", "q")
    ok(await api.post("/v1/batches/in-q/finalize"))
    by_project = ok(await api.get("/v1/batches", params={"project": "p"}))
    assert [b["name"] for b in by_project["docs"]] == ["in-p"]
    assert by_project["totalDocs"] == 1
    by_status = ok(await api.get("/v1/batches", params={"status": "in_progress"}))
    assert [b["name"] for b in by_status["docs"]] == ["in-q"]


async def test_finalize_moves_a_live_batch_to_in_progress(api: httpx.AsyncClient) -> None:
    """Finalizing a staging batch makes it in_progress; finalizing again keeps it so."""
    await create_project(api, "p")
    await create_batch(api, "b", "p")
    finalized = ok(await api.post("/v1/batches/b/finalize"))
    assert finalized["status"] == "in_progress"
    assert finalized["finalized_at"] is not None
    again = ok(await api.post("/v1/batches/b/finalize"))
    assert again == finalized
    error_of(await api.post("/v1/batches/nope/finalize"), 404)


async def test_test_key_batch_starts_in_progress(
    account: Account, client_factory: ClientFactory
) -> None:
    """A batch created with a test key starts in_progress."""
    test_client = client_factory(account.test_key)
    await create_project(test_client, "p")
    assert (await create_batch(test_client, "b", "p"))["status"] == "in_progress"


async def test_batch_status_counts_tasks_by_status(api: httpx.AsyncClient) -> None:
    """GET /batches/{name}/status counts the batch's tasks by status."""
    await create_project(api, "p")
    await create_batch(api, "b", "p")
    await create_batch(api, "other", "p")
    made = [await create_task(api, batch="b") for _ in range(3)]
    await create_task(api, batch="other")
    ok(await api.post(f"/v1/task/{made[0]['task_id']}/cancel"))
    status = ok(await api.get("/v1/batches/b/status"))
    assert status == {"status": "staging", "pending": 2, "completed": 0, "canceled": 1, "error": 0}
    error_of(await api.get("/v1/batches/nope/status"), 404)


async def test_set_batch_metadata_replaces_it(api: httpx.AsyncClient) -> None:
    """setMetadata replaces a batch's metadata."""
    await create_project(api, "p")
    await create_batch(api, "b", "p", metadata={"a": 1})
    updated = ok(await api.post("/v1/batches/b/setMetadata", json={"b": 2}))
    assert updated["metadata"] == {"b": 2}
    assert ok(await api.get("/v1/batches/b"))["metadata"] == {"b": 2}
    error_of(await api.post("/v1/batches/b/setMetadata", json=[1]), 400)
    error_of(await api.post("/v1/batches/nope/setMetadata", json={}), 404)


async def test_task_in_a_batch_inherits_project_params_and_instruction(
    api: httpx.AsyncClient,
) -> None:
    """A task created with `batch` gets the batch's project and that project's params."""
    await create_project(
        api, "cats", "categorization", instruction="Pick one", categories=["cat", "dog"]
    )
    await create_batch(api, "week-1", "cats")
    task = await create_task(
        api, "categorization", batch="week-1", attachment="https://example.com/1.png"
    )
    assert task["project"] == "cats"
    assert task["batch"] == "week-1"
    assert task["instruction"] == "Pick one"
    assert task["params"] == {
        "categories": ["cat", "dog"],
        "attachment": "https://example.com/1.png",
    }


async def test_task_fields_override_project_params(api: httpx.AsyncClient) -> None:
    """A task's own params and instruction win over its project's."""
    await create_project(api, "p", instruction="Default", size=1, colour="red")
    task = await create_task(api, project="p", instruction="Mine", size=2)
    assert task["instruction"] == "Mine"
    assert task["params"] == {"size": 2, "colour": "red"}


async def test_task_inherits_the_current_project_version(api: httpx.AsyncClient) -> None:
    """Tasks take the project's params as of their creation."""
    await create_project(api, "p", size=1)
    before = await create_task(api, project="p")
    ok(await api.post("/v1/projects/p/setParams", json={"size": 2}))
    after = await create_task(api, project="p")
    assert (before["params"], after["params"]) == ({"size": 1}, {"size": 2})


async def test_task_of_another_type_than_its_project_answers_400(api: httpx.AsyncClient) -> None:
    """A task whose type differs from its project's is a 400 and is not stored."""
    await create_project(api, "p", "categorization", categories=["a"])
    error_of(await api.post("/v1/task/echo", json={"project": "p"}), 400)
    assert ok(await api.get("/v1/tasks"))["total"] == 0


async def test_task_naming_a_project_other_than_its_batchs_answers_400(
    api: httpx.AsyncClient,
) -> None:
    """A task naming a batch and a different project is a 400."""
    await create_project(api, "p")
    await create_project(api, "q")
    await create_batch(api, "b", "p")
    error_of(await api.post("/v1/task/echo", json={"batch": "b", "project": "q"}), 400)
    assert ok(await api.get("/v1/tasks"))["total"] == 0


async def test_catalog_is_scoped_to_account_and_environment(
    api: httpx.AsyncClient,
    account: Account,
    account_factory: AccountFactory,
    client_factory: ClientFactory,
) -> None:
    """Another account's or environment's projects and batches are a 404."""
    await create_project(api, "p")
    await create_batch(api, "b", "p")
    for key in ((await account_factory()).live_key, account.test_key):
        client = client_factory(key)
        error_of(await client.get("/v1/projects/p"), 404)
        error_of(await client.get("/v1/batches/b"), 404)
        error_of(await client.post("/v1/batches/b/finalize"), 404)
        assert ok(await client.get("/v1/batches"))["totalDocs"] == 0
        error_of(await client.post("/v1/task/echo", json={"batch": "b"}), 400)
    assert ok(await api.get("/v1/batches/b"))["status"] == "staging"
