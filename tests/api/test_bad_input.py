"""Bad input, authentication and routing errors: a 4xx in Scale's shape, nothing stored."""

from __future__ import annotations

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
