"""Bad input, authentication and routing errors: a 4xx in Scale's shape, nothing stored."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from hookline.config import LimitsSettings, Settings
from hookline.models import Scope
from hookline.store import Store
from tests.api.support import create_task, error_of, ok, total
from tests.conftest import Account, AccountFactory, ClientFactory

JSON_HEADERS = {"content-type": "application/json"}


def small_limit(settings: Settings) -> Settings:
    """The test settings with a 2 KiB body limit."""
    return dataclasses.replace(settings, limits=LimitsSettings(max_body_bytes=2048))


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b'{"x": 1', "not valid JSON", id="malformed-json"),
        pytest.param(b"", "JSON object", id="empty-body"),
        pytest.param(b"[1, 2]", "JSON object", id="array-body"),
        pytest.param(b'"hello"', "JSON object", id="string-body"),
        pytest.param(b"42", "JSON object", id="number-body"),
        pytest.param(b"null", "JSON object", id="null-body"),
        pytest.param(json_bytes({"metadata": ["a"]}), "metadata", id="metadata-list"),
        pytest.param(json_bytes({"metadata": "a"}), "metadata", id="metadata-string"),
        pytest.param(json_bytes({"tags": "a"}), "tags", id="tags-string"),
        pytest.param(json_bytes({"tags": ["a", 1]}), "tags", id="tags-not-strings"),
        pytest.param(json_bytes({"tags": list("abcdef")}), "5 tags", id="six-tags"),
        pytest.param(json_bytes({"priority": "high"}), "priority", id="priority-string"),
        pytest.param(json_bytes({"priority": True}), "priority", id="priority-bool"),
        pytest.param(json_bytes({"unique_id": 5}), "unique_id", id="unique-id-number"),
        pytest.param(json_bytes({"unique_id": ""}), "unique_id", id="unique-id-empty"),
        pytest.param(json_bytes({"instruction": 5}), "instruction", id="instruction-number"),
        pytest.param(json_bytes({"callback_url": "ftp://x"}), "callback_url", id="callback-ftp"),
        pytest.param(
            json_bytes({"callback_url": "not a url"}), "callback_url", id="callback-not-url"
        ),
        pytest.param(json_bytes({"callback_url": 5}), "callback_url", id="callback-number"),
        pytest.param(
            json_bytes({"callback_url": "http://[::1/cb"}), "callback_url", id="callback-malformed"
        ),
        pytest.param(json_bytes({"callback_url": "https:///cb"}), "callback_url", id="no-host"),
        pytest.param(
            json_bytes({"callback_url": "https://hooks.example/cb\r\nX: 1"}),
            "'callback_url' must not contain whitespace",
            id="callback-crlf",
        ),
        pytest.param(
            json_bytes({"callback_url": "http://hooks.example/a b"}),
            "'callback_url' must not contain whitespace",
            id="callback-space",
        ),
        pytest.param(
            json_bytes({"callback_url": "http://2130706433:8080/cb"}),
            "non-canonical numeric form of 127.0.0.1",
            id="callback-decimal-host",
        ),
        pytest.param(json_bytes({"project": "nope"}), "nope", id="unknown-project"),
        pytest.param(json_bytes({"batch": "nope"}), "nope", id="unknown-batch"),
    ],
)
async def test_bad_create_answers_400_and_stores_nothing(
    api: httpx.AsyncClient, content: bytes, expected: str
) -> None:
    """A bad create body is a 400 whose message says what is wrong, and nothing is stored."""
    message = error_of(await api.post("/v1/task/echo", content=content, headers=JSON_HEADERS), 400)
    assert expected in message
    assert await total(api) == 0


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        pytest.param({"attachment": "https://example.com/a.png"}, "categories", id="no-categories"),
        pytest.param({"categories": ["a", "b"]}, "attachment", id="no-attachment"),
        pytest.param(
            {"attachment": "https://example.com/a.png", "categories": []},
            "categories",
            id="empty-categories",
        ),
    ],
)
async def test_categorization_without_required_params_answers_400(
    api: httpx.AsyncClient, body: dict[str, Any], missing: str
) -> None:
    """A categorization task without a required param is a 400 naming it; nothing is stored."""
    message = error_of(await api.post("/v1/task/categorization", json=body), 400)
    assert repr(missing) in message
    assert await total(api) == 0


@pytest.mark.parametrize(
    ("task_type", "body", "missing"),
    [
        pytest.param("imageannotation", {"attachment": "a"}, "geometries", id="imageannotation"),
        pytest.param("annotation", {"attachment": "a"}, "objects_to_annotate", id="annotation"),
        pytest.param("transcription", {"attachment": "a"}, "fields", id="transcription"),
        pytest.param("namedentityrecognition", {"text": "hi"}, "labels", id="ner"),
        pytest.param("polygonannotation", {"objects_to_annotate": ["x"]}, "attachment", id="poly"),
    ],
)
async def test_builtin_types_name_the_missing_param(
    api: httpx.AsyncClient, task_type: str, body: dict[str, Any], missing: str
) -> None:
    """Scale's built-in types name their missing required param in a 400."""
    message = error_of(await api.post(f"/v1/task/{task_type}", json=body), 400)
    assert repr(missing) in message
    assert await total(api) == 0


async def test_complete_categorization_is_accepted(api: httpx.AsyncClient) -> None:
    """A categorization task with its required params is created."""
    task = await create_task(
        api, "categorization", attachment="https://example.com/a.png", categories=["a", "b"]
    )
    assert task["params"] == {"attachment": "https://example.com/a.png", "categories": ["a", "b"]}


async def test_body_over_the_limit_answers_413(
    account: Account, client_factory: ClientFactory, settings: Settings
) -> None:
    """A body over limits.max_body_bytes is a 413 and stores nothing; a smaller one passes."""
    client = client_factory(account.live_key, settings_=small_limit(settings))
    big = json_bytes({"blob": "x" * 3000})
    message = error_of(await client.post("/v1/task/echo", content=big, headers=JSON_HEADERS), 413)
    assert "2048" in message
    assert await total(client) == 0
    await create_task(client, blob="x" * 1000)
    assert await total(client) == 1


async def test_chunked_body_over_the_limit_answers_413(
    account: Account, client_factory: ClientFactory, settings: Settings
) -> None:
    """A chunked body without Content-Length is cut off at the limit with a 413."""
    client = client_factory(account.live_key, settings_=small_limit(settings))
    big = json_bytes({"blob": "x" * 5000})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    request = client.build_request("POST", "/v1/task/echo", content=chunks(), headers=JSON_HEADERS)
    assert "content-length" not in request.headers
    error_of(await client.send(request), 413)
    assert await total(client) == 0


async def test_chunked_body_under_the_limit_is_accepted(
    account: Account, client_factory: ClientFactory, settings: Settings
) -> None:
    """A chunked body under the limit is read whole."""
    client = client_factory(account.live_key, settings_=small_limit(settings))
    body = json_bytes({"blob": "y" * 1500})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    task = ok(await client.post("/v1/task/echo", content=chunks(), headers=JSON_HEADERS))
    assert task["params"] == {"blob": "y" * 1500}


async def test_missing_key_answers_401(client_factory: ClientFactory) -> None:
    """A request without a key is a 401 with a WWW-Authenticate challenge."""
    anonymous = client_factory()
    response = await anonymous.post("/v1/task/echo", json={"x": 1})
    error_of(response, 401)
    assert response.headers["www-authenticate"].lower().startswith("basic")
    error_of(await anonymous.get("/v1/tasks"), 401)


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic bm90LWEta2V5Og==", id="basic-not-a-key"),
        pytest.param("Bearer live_" + "ab" * 22, id="bearer-unknown-key"),
        pytest.param("Basic %%%", id="basic-not-base64"),
        pytest.param("Digest abc", id="unknown-scheme"),
    ],
)
async def test_bad_key_answers_401(client_factory: ClientFactory, authorization: str) -> None:
    """An unknown or malformed key is a 401."""
    anonymous = client_factory()
    response = await anonymous.get("/v1/tasks", headers={"authorization": authorization})
    error_of(response, 401)


async def test_bearer_key_is_accepted(account: Account, client_factory: ClientFactory) -> None:
    """The key also works as a Bearer token."""
    anonymous = client_factory()
    response = await anonymous.get(
        "/v1/tasks", headers={"authorization": f"Bearer {account.live_key}"}
    )
    assert ok(response)["total"] == 0


async def test_wrong_secret_with_a_known_key_id_answers_401(
    account: Account, client_factory: ClientFactory
) -> None:
    """A key whose id exists but whose secret is wrong is a 401."""
    prefix, body = account.live_key[:17], account.live_key[17:]
    forged = prefix + ("0" if body[0] != "0" else "1") + body[1:]
    error_of(await client_factory(forged).get("/v1/tasks"), 401)


async def test_revoked_key_answers_401(
    account: Account, client_factory: ClientFactory, store: Store, settings: Settings
) -> None:
    """A revoked key is a 401 (in an app that has not cached it)."""
    await create_task(client_factory(account.live_key))
    await store.accounts.revoke_key(account.live_key)
    fresh = client_factory(account.live_key, settings_=settings)
    error_of(await fresh.get("/v1/tasks"), 401)
    error_of(await fresh.post("/v1/task/echo", json={"x": 1}), 401)


async def test_key_without_submit_scope_answers_403(
    account_factory: AccountFactory, client_factory: ClientFactory
) -> None:
    """A key without the submit scope cannot create tasks, and nothing is stored."""
    worker = client_factory((await account_factory(scopes=frozenset({Scope.WORK}))).live_key)
    message = error_of(await worker.post("/v1/task/echo", json={"x": 1}), 403)
    assert "submit" in message
    assert await total(worker) == 0


async def test_unknown_route_answers_404_in_the_error_shape(api: httpx.AsyncClient) -> None:
    """An unknown route is a 404 in the error shape."""
    error_of(await api.get("/v1/nothing-here"), 404)
    error_of(await api.post("/v2/task/echo", json={}), 404)


async def test_wrong_method_answers_405_in_the_error_shape(api: httpx.AsyncClient) -> None:
    """A known route with the wrong method is a 405 in the error shape."""
    task = await create_task(api)
    error_of(await api.patch(f"/v1/task/{task['task_id']}", json={}), 405)
    error_of(await api.delete("/v1/tasks"), 405)
    error_of(await api.get(f"/v1/task/{task['task_id']}/cancel"), 405)
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["status"] == "pending"


async def test_get_task_rejects_query_parameters(api: httpx.AsyncClient) -> None:
    """GET /task/{id} with an unknown parameter is a 400."""
    task = await create_task(api)
    error_of(await api.get(f"/v1/task/{task['task_id']}", params={"expand": "all"}), 400)


@pytest.mark.parametrize("length", ["abc", "-1"])
async def test_invalid_content_length_answers_400(api: httpx.AsyncClient, length: str) -> None:
    """A Content-Length that is not a non-negative integer is a 400 and stores nothing."""
    response = await api.post(
        "/v1/task/echo", content=b"{}", headers={**JSON_HEADERS, "content-length": length}
    )
    assert "Content-Length" in error_of(response, 400)
    assert await total(api) == 0


async def test_wrong_method_lists_every_allowed_method(api: httpx.AsyncClient) -> None:
    """A 405's Allow header lists every method the path serves."""
    task = await create_task(api)
    response = await api.patch(f"/v1/task/{task['task_id']}", json={})
    error_of(response, 405)
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    tags = await api.get(f"/v1/task/{task['task_id']}/tags")
    assert {"POST", "PUT", "DELETE"} <= {m.strip() for m in tags.headers["allow"].split(",")}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"x": 1e20}, id="float-1e20-in-params"),
        pytest.param({"x": 10**30}, id="int-over-64-bits-in-params"),
        pytest.param({"metadata": {"m": 1e25}}, id="float-1e25-in-metadata"),
    ],
)
async def test_large_numbers_round_trip(api: httpx.AsyncClient, body: dict[str, Any]) -> None:
    """A number beyond 64 bits in params or metadata reads back, and the list still works."""
    task = await create_task(api, **body)
    assert task["params"].get("x") == pytest.approx(body.get("x"))
    assert task["metadata"] == pytest.approx(body.get("metadata", {}))
    assert (await total(api)) == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"x": "a\u0000b"}, id="nul-in-a-param-value"),
        pytest.param({"metadata": {"k\u0000": 1}}, id="nul-in-a-metadata-key"),
    ],
)
async def test_nul_character_is_stored_or_refused_never_a_500(
    api: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    """A U+0000 in a string is kept as sent or refused with a 400, never a 500."""
    response = await api.post("/v1/task/echo", json=body)
    if response.status_code == 400:
        error_of(response, 400)
        assert await total(api) == 0
    else:
        task = ok(response)
        assert ok(await api.get(f"/v1/task/{task['task_id']}")) == task
        assert task["params"].get("x") == body.get("x")
        assert task["metadata"] == body.get("metadata", {})


# Hostile values at the edge (issue 9.2): each is a 400 naming the parameter on both backends.


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        pytest.param("GET", "/v1/task/a%00b", "key", id="task"),
        pytest.param("POST", "/v1/task/a%00b/cancel", "task_id", id="cancel"),
        pytest.param("GET", "/v1/task/a%00b/events", "task_id", id="task-events"),
        pytest.param("GET", "/v1/task/a%00b/callbacks", "task_id", id="task-callbacks"),
        pytest.param("GET", "/v1/projects/a%00b", "name", id="project"),
        pytest.param("GET", "/v1/batches/a%00b", "name", id="batch"),
        pytest.param("GET", "/v1/batches/a%00b/status", "name", id="batch-status"),
        pytest.param("POST", "/v1/batches/a%00b/finalize", "name", id="batch-finalize"),
        pytest.param("GET", "/v1/files/a%00b", "file_id", id="file"),
    ],
)
async def test_nul_in_a_path_parameter_answers_400(
    api: httpx.AsyncClient, method: str, path: str, name: str
) -> None:
    """A %00 in any path parameter is a 400 naming it, never a 500."""
    message = error_of(await api.request(method, path), 400)
    assert message == f"Path parameter {name!r} must not contain NUL (%00)"


async def test_nul_in_a_create_type_answers_400(api: httpx.AsyncClient) -> None:
    """A %00 in the task type of a create is a 400 and stores nothing."""
    error_of(await api.post("/v1/task/ec%00ho", json={"x": 1}), 400)
    assert await total(api) == 0


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param("/v1/tasks", name, id=f"tasks-{name}")
        for name in ("type", "project", "batch", "unique_id", "tags", "status", "start_time")
    ]
    + [
        pytest.param("/v1/events", name, id=f"events-{name}")
        for name in ("task_id", "action", "actor", "project", "since")
    ]
    + [
        pytest.param("/v1/audits", name, id=f"audits-{name}")
        for name in ("result", "auditor", "project")
    ]
    + [pytest.param("/v1/batches", name, id=f"batches-{name}") for name in ("project", "status")],
)
async def test_nul_in_a_query_filter_answers_400(
    api: httpx.AsyncClient, path: str, name: str
) -> None:
    """A %00 in any filter of the list endpoints is a 400 naming the filter."""
    message = error_of(await api.get(f"{path}?{name}=a%00b"), 400)
    assert message == f"Parameter {name!r} must not contain NUL (%00)"


def multipart(filename: bytes, content_type: bytes = b"text/plain") -> tuple[bytes, dict[str, str]]:
    """A raw multipart body with one `file` part; httpx would escape a NUL in the filename."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: '
        + content_type
        + b"\r\n\r\nhello\r\n--B--\r\n"
    )
    return body, {"content-type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        pytest.param(b"a\x00b.txt", b"text/plain", "'filename' must not contain NUL", id="nul"),
        pytest.param(b"x" * 501, b"text/plain", "'filename' is longer than 500", id="long-name"),
        pytest.param(b"a.txt", b"text/pl\x00ain", "'content_type' must not contain NUL", id="type"),
    ],
)
async def test_bad_multipart_file_part_answers_400(
    api: httpx.AsyncClient, filename: bytes, content_type: bytes, expected: str
) -> None:
    """A NUL in an upload's filename or content type, or a too-long filename, is a 400."""
    body, headers = multipart(filename, content_type)
    assert expected in error_of(
        await api.post("/v1/files/upload", content=body, headers=headers), 400
    )


async def test_plain_multipart_filename_is_kept(api: httpx.AsyncClient) -> None:
    """A well-formed upload through the same raw body is stored with its filename."""
    body, headers = multipart(b"report.txt")
    stored = ok(await api.post("/v1/files/upload", content=body, headers=headers))
    assert stored["filename"] == "report.txt"


@pytest.mark.parametrize(
    "priority",
    [
        pytest.param(2**31, id="2**31"),
        pytest.param(2**63, id="2**63"),
        pytest.param(2**64 - 1, id="2**64-1"),
        pytest.param(-(2**31) - 1, id="below-int32"),
    ],
)
async def test_priority_outside_int32_answers_400(api: httpx.AsyncClient, priority: int) -> None:
    """A priority PostgreSQL's integer cannot hold is a 400 on both backends; nothing is stored."""
    message = error_of(await api.post("/v1/task/echo", json={"priority": priority}), 400)
    assert "'priority' must be between -2147483648 and 2147483647" in message
    assert await total(api) == 0


@pytest.mark.parametrize("priority", [-(2**31), 2**31 - 1])
async def test_priority_at_the_int32_bounds_is_stored(
    api: httpx.AsyncClient, priority: int
) -> None:
    """The smallest and largest int32 priorities are created and read back."""
    task = await create_task(api, priority=priority)
    assert ok(await api.get(f"/v1/task/{task['task_id']}"))["priority"] == priority


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        pytest.param(str(2**63), 400, id="2**63"),
        pytest.param(str(10**30), 400, id="10**30"),
        pytest.param(str(2**63 - 1), 200, id="2**63-1"),
    ],
)
async def test_batch_offset_is_bounded_by_64_bits(
    api: httpx.AsyncClient, offset: str, status: int
) -> None:
    """GET /batches?offset=2**63 is a 400 naming 'offset'; the largest 64-bit offset pages."""
    response = await api.get("/v1/batches", params={"offset": offset})
    if status == 400:
        assert "'offset' must be between 0 and 9223372036854775807" in error_of(response, 400)
    else:
        assert ok(response)["docs"] == []


def after(last_id: int) -> str:
    """An audit-trail next_token naming `last_id`, as the server writes them."""
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "last_id"),
    [
        pytest.param("/v1/events", 2**64, id="events-2**64"),
        pytest.param("/v1/events", 2**63, id="events-2**63"),
        pytest.param("/v1/audits", 2**64, id="audits-2**64"),
        pytest.param("/v1/audits", 2**31, id="audits-2**31"),
        pytest.param("/v1/task/{task_id}/events", 2**64, id="task-events-2**64"),
    ],
)
async def test_next_token_with_a_huge_id_answers_400(
    api: httpx.AsyncClient, path: str, last_id: int
) -> None:
    """A next_token naming an id past its column's range is a 400 naming 'next_token'."""
    task = await create_task(api)
    url = path.format(task_id=task["task_id"])
    message = error_of(await api.get(url, params={"next_token": after(last_id)}), 400)
    assert message == "Parameter 'next_token' is not a token this server issued"


@pytest.mark.parametrize(
    ("path", "last_id"),
    [
        pytest.param("/v1/events", 2**63 - 1, id="events"),
        pytest.param("/v1/audits", 2**31 - 1, id="audits"),
        pytest.param("/v1/task/{task_id}/events", 2**63 - 1, id="task-events"),
    ],
)
async def test_next_token_with_the_largest_id_answers_an_empty_page(
    api: httpx.AsyncClient, path: str, last_id: int
) -> None:
    """The largest id a column holds binds on both backends and ends the list."""
    task = await create_task(api)
    url = path.format(task_id=task["task_id"])
    page = ok(await api.get(url, params={"next_token": after(last_id)}))
    assert (page["docs"], page["has_more"]) == ([], False)


FAR = "9999-12-31T23:59:59-14:00"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param("/v1/tasks", name, id=f"tasks-{name}")
        for name in ("start_time", "end_time", "updated_after", "completed_before")
    ]
    + [pytest.param("/v1/events", name, id=f"events-{name}") for name in ("since", "until")]
    + [pytest.param("/v1/audits", "since", id="audits-since")]
    + [pytest.param("/v1/batches", "start_time", id="batches-start-time")],
)
async def test_time_pushed_out_of_range_by_its_offset_answers_400(
    api: httpx.AsyncClient, path: str, name: str
) -> None:
    """9999-12-31T23:59:59-14:00 (year 10000 in UTC) is a 400 naming the parameter."""
    message = error_of(await api.get(path, params={name: FAR}), 400)
    assert message.startswith(f"Parameter {name!r} is out of range in UTC")


@pytest.mark.parametrize("name", ["since", "until"])
async def test_replay_time_pushed_out_of_range_answers_400(
    api: httpx.AsyncClient, name: str
) -> None:
    """A replay window bound in year 10000 UTC is a 400 naming the field."""
    message = error_of(await api.post("/v1/callbacks/replay", json={name: FAR}), 400)
    assert message.startswith(f"Parameter {name!r} is out of range in UTC")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        pytest.param("/v1/audits", "until", id="audits-until"),
        pytest.param("/v1/batches", "start_time", id="batches-start-time"),
        pytest.param("/v1/tasks", "updated_after", id="tasks-updated-after"),
    ],
)
async def test_empty_time_parameter_answers_400(
    api: httpx.AsyncClient, path: str, name: str
) -> None:
    """`?until=` is no time: a 400 naming the parameter, not a filter left out."""
    message = error_of(await api.get(path, params={name: ""}), 400)
    assert message.startswith(f"Parameter {name!r} is not a date or time")


async def test_empty_replay_bound_answers_400(api: httpx.AsyncClient) -> None:
    """A replay with `"until": ""` is a 400 naming the field."""
    body = {"since": "1000-01-01", "until": ""}
    message = error_of(await api.post("/v1/callbacks/replay", json=body), 400)
    assert "'until'" in message


async def test_first_and_last_instants_are_accepted_as_filters(api: httpx.AsyncClient) -> None:
    """Times at 0001-01-01 and 9999-12-31T23:59:59.999999 UTC filter on both backends."""
    task = await create_task(api)
    first, last = "0001-01-01T14:00:00+14:00", "9999-12-31T09:59:59.999999-14:00"
    listed = ok(await api.get("/v1/tasks", params={"start_time": first, "end_time": last}))
    assert [t["task_id"] for t in listed["docs"]] == [task["task_id"]]
    events = ok(await api.get("/v1/events", params={"since": first, "until": last}))
    assert [e["action"] for e in events["docs"]] == ["created"]
    assert ok(await api.get("/v1/audits", params={"since": first, "until": last}))["docs"] == []
    batches = ok(await api.get("/v1/batches", params={"start_time": first, "end_time": last}))
    assert batches["docs"] == []
    replayed = ok(await api.post("/v1/callbacks/replay", json={"since": first, "until": last}))
    assert replayed == {"replayed": 0}


# Issue 9.7: unknown parameters, content types, metadata size.


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/v1/projects", id="projects"),
        pytest.param("/v1/teams", id="teams"),
        pytest.param("/v1/account", id="account"),
        pytest.param("/v1/batches/b", id="batch"),
    ],
)
async def test_unknown_query_parameter_answers_400_everywhere(
    api: httpx.AsyncClient, path: str
) -> None:
    """Endpoints without query parameters refuse unknown ones instead of ignoring them."""
    message = error_of(await api.get(path, params={"bogus": "1"}), 400)
    assert message == "Unknown parameter 'bogus'; this endpoint takes no query parameters"


async def test_nul_in_a_query_parameter_name_answers_400(api: httpx.AsyncClient) -> None:
    """A %00 in a parameter's name is a 400 too."""
    assert "must not contain NUL" in error_of(await api.get("/v1/projects?a%00=1"), 400)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"content-type": "text/plain"}, id="text-plain"),
        pytest.param({"content-type": "application/x-www-form-urlencoded"}, id="form"),
        pytest.param({"content-type": "application/json; charset=latin-1"}, id="latin-1"),
        pytest.param({}, id="missing"),
    ],
)
async def test_json_body_with_a_wrong_content_type_answers_415(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """A JSON body not declared as application/json is a 415 and stores nothing."""
    response = await api.post("/v1/task/echo", content=b'{"x": 1}', headers=headers)
    assert "Content-Type: application/json" in error_of(response, 415)
    assert await total(api) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/json; charset=utf-8", id="charset"),
        pytest.param("application/json;charset=UTF-8", id="charset-upper"),
        pytest.param("application/vnd.api+json", id="suffix"),
    ],
)
async def test_json_media_types_are_accepted(api: httpx.AsyncClient, content_type: str) -> None:
    """application/json with a UTF-8 charset and application/*+json are read as JSON."""
    response = await api.post(
        "/v1/task/echo", content=b'{"x": 1}', headers={"content-type": content_type}
    )
    assert ok(response)["params"] == {"x": 1}


async def test_bodyless_calls_need_no_content_type(api: httpx.AsyncClient) -> None:
    """Calls without a body (cancel; retry with its optional body) need no Content-Type."""
    task = await create_task(api)
    canceled = ok(await api.post(f"/v1/task/{task['task_id']}/cancel"))
    assert canceled["status"] == "canceled"
    assert ok(await api.post("/v1/callbacks/replay")) == {"replayed": 0}


def small_metadata(settings: Settings) -> Settings:
    """The test settings with metadata limited to 100 bytes of JSON."""
    return dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, max_metadata_bytes=100)
    )


FITS = {"k": "v" * 92}  # exactly 100 bytes of JSON
OVER = {"k": "v" * 93}


async def test_metadata_over_the_limit_answers_400_wherever_it_enters(
    account: Account, client_factory: ClientFactory, settings: Settings
) -> None:
    """Task and batch metadata over limits.max_metadata_bytes is a 400 naming the setting."""
    assert len(json_bytes(FITS)) == 100
    client = client_factory(account.live_key, settings_=small_metadata(settings))
    task = await create_task(client, metadata=FITS)
    ok(await client.post("/v1/projects", json={"name": "p", "type": "echo"}))
    ok(await client.post("/v1/batches", json={"name": "b", "project": "p", "metadata": FITS}))
    refused = [
        await client.post("/v1/task/echo", json={"metadata": OVER}),
        await client.post(f"/v1/task/{task['task_id']}/setMetadata", json=OVER),
        await client.post("/v1/batches", json={"name": "b2", "project": "p", "metadata": OVER}),
        await client.post("/v1/batches/b/setMetadata", json=OVER),
    ]
    for response in refused:
        assert "limits.max_metadata_bytes" in error_of(response, 400)
    assert ok(await client.get(f"/v1/task/{task['task_id']}"))["metadata"] == FITS
    assert ok(await client.get("/v1/batches/b"))["metadata"] == FITS
    assert await total(client) == 1
    assert ok(await client.get("/v1/batches"))["totalDocs"] == 1


async def test_metadata_limit_defaults_to_64_kib(api: httpx.AsyncClient) -> None:
    """With the default settings, 64 KiB of metadata passes and more is refused."""
    fits = {"k": "v" * (64 * 1024 - 8)}
    assert len(json_bytes(fits)) == 64 * 1024
    await create_task(api, metadata=fits)
    over = {"k": "v" * (64 * 1024 - 7)}
    error_of(await api.post("/v1/task/echo", json={"metadata": over}), 400)


async def test_openapi_documents_the_415_of_json_bodies(client_factory: ClientFactory) -> None:
    """Operations taking a JSON body document the 415; the multipart upload does not."""
    paths = ok(await client_factory().get("/v1/openapi.json"))["paths"]
    assert "415" in paths["/v1/task/{key}"]["post"]["responses"]
    assert "415" in paths["/v1/task/{task_id}/tags"]["put"]["responses"]
    assert "415" not in paths["/v1/files/upload"]["post"]["responses"]
    assert "415" not in paths["/v1/tasks"]["get"]["responses"]
