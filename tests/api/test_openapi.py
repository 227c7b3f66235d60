"""The OpenAPI document: valid, complete, and true to what the server takes and answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from hookline.ingress.answers import ANSWERS
from hookline.ingress.app import API
from hookline.ingress.contract import CONTRACTS, LIST_PARAMS, contract_for
from hookline.ingress.validation import validator_for
from tests.api.support import create_task, error_of, ok
from tests.conftest import ClientFactory

PUBLIC = ("/healthz", "/readyz", "/v1/openapi.json", "/metrics", "/docs")


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    """The served document."""
    answer: dict[str, Any] = ok(await client.get("/v1/openapi.json"))
    return answer


def conforms(answer: Any, name: str) -> None:
    """Assert `answer` matches the published answer schema `name`."""
    validator_for(ANSWERS[name]).validate(answer)


async def test_document_is_valid_openapi_3_1(api: httpx.AsyncClient) -> None:
    """openapi-spec-validator accepts the served document."""
    served = await document(api)
    assert served["openapi"] == "3.1.0"
    validate(served)


def test_every_route_has_a_contract_and_every_contract_a_route() -> None:
    """The contracts cover the route table exactly."""
    assert {(api.method, api.path) for api in API} == set(CONTRACTS)


@pytest.mark.parametrize("path", sorted(LIST_PARAMS))
def test_list_parameters_are_typed_exactly_as_the_handler_accepts_them(path: str) -> None:
    """A list endpoint's typed parameters are the names its handler accepts."""
    (api,) = [a for a in API if a.path == path and a.method == "GET"]
    assert set(contract_for("GET", path).params) == LIST_PARAMS[path] == set(api.params)


async def test_every_operation_documents_typed_parameters_and_answers(
    api: httpx.AsyncClient,
) -> None:
    """No parameter is an untyped string, and each answer and error has a schema."""
    served = await document(api)
    for path, operations in served["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                assert parameter["schema"] != {"type": "string"}, (method, path, parameter)
            for status, answer in operation["responses"].items():
                assert "content" in answer or status == "307", (method, path, status)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                assert body["schema"] != {"type": "object"}, (method, path)


async def test_only_the_service_routes_are_public(
    api: httpx.AsyncClient, client_factory: ClientFactory
) -> None:
    """/healthz, /readyz and the document say `security: []` and answer without a key."""
    served = await document(api)
    assert served["security"] == [{"basic": []}, {"bearer": []}]
    public = {
        path
        for path, operations in served["paths"].items()
        for operation in operations.values()
        if operation.get("security") == []
    }
    assert public == set(PUBLIC)
    anonymous = client_factory(None)
    for path in PUBLIC:
        assert (await anonymous.get(path)).status_code == 200, path
    error_of(await anonymous.get("/v1/tasks"), 401)


async def test_answers_match_their_published_schemas(api: httpx.AsyncClient) -> None:
    """Real answers of every kind validate against the schemas the document publishes."""
    ok(await api.post("/v1/projects", json={"name": "p", "type": "echo"}))
    conforms(ok(await api.get("/v1/projects/p")), "Project")
    conforms(ok(await api.get("/v1/projects")), "ProjectList")
    conforms(ok(await api.post("/v1/batches", json={"name": "b", "project": "p"})), "Batch")
    conforms(ok(await api.get("/v1/batches")), "BatchPage")
    conforms(ok(await api.get("/v1/batches/b/status")), "BatchCounts")
    task = await create_task(api, "echo", batch="b", unique_id="u", tags=["t"], priority=3, x=1)
    conforms(task, "Task")
    conforms(ok(await api.get("/v1/tasks")), "TaskPage")
    conforms(ok(await api.get("/v1/tasks", params={"limited_response": "true"})), "TaskPage")
    claim = ok(await api.post("/v1/work/claim", json={"worker": "w"}))
    conforms(claim, "Claim")
    path = f"/v1/task/{task['task_id']}"
    conforms(ok(await api.post(f"{path}/heartbeat", json={"worker": "w"})), "LeasedTask")
    done = ok(await api.post(f"{path}/complete", json={"worker": "w", "response": {"ok": 1}}))
    conforms(done, "LeasedTask")
    conforms(ok(await api.post(f"{path}/audit", json={"accepted": True})), "Task")
    conforms(ok(await api.get("/v1/work/claim" and "/v1/audits")), "AuditPage")
    conforms(ok(await api.get(f"{path}/events")), "EventPage")
    conforms(ok(await api.get("/v1/events")), "EventPage")
    conforms(ok(await api.get(f"{path}/callbacks")), "Deliveries")
    conforms(ok(await api.post("/v1/callbacks/replay")), "Replayed")
    conforms(ok(await api.get("/v1/account")), "Credentials")
    conforms(ok(await api.post("/v1/account/rotate_webhook_secret")), "Credentials")
    conforms(ok(await api.get("/v1/teams")), "Teammates")
    imported = ok(await api.post("/v1/files/import", json={"file_url": "https://example.com/a"}))
    conforms(imported, "File")
    conforms(ok(await api.post("/v1/work/claim", json={"worker": "w"})), "Claim")
    conforms(
        error_of(await api.get(f"{path}x"), 404) and {"status_code": 404, "error": "x"}, "Error"
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        pytest.param("POST", "/v1/work/claim", {"worker": "w", "lease_s": 0}, "'lease_s' must be between 1 and 86400", id="lease-zero"),
        pytest.param("POST", "/v1/work/claim", {"worker": "w", "lease_s": "5"}, "'lease_s' must be a number between 1 and 86400, got a string", id="lease-string"),
        pytest.param("POST", "/v1/work/claim", {"worker": " "}, "'worker' must not be blank", id="worker-blank"),
        pytest.param("POST", "/v1/work/claim", {}, "Missing required field 'worker'", id="worker-missing"),
        pytest.param("POST", "/v1/work/claim", {"worker": "w", "types": "echo"}, "'types'", id="types-string"),
        pytest.param("POST", "/v1/task/echo", {"priority": 2**40}, "'priority' must be between", id="priority-overflow"),
        pytest.param("POST", "/v1/task/echo", {"tags": [""]}, "Tags must be 1 to 200 characters long", id="tag-empty"),
        pytest.param("POST", "/v1/projects", {"name": "p"}, "Missing required field 'type'", id="project-type"),
        pytest.param("POST", "/v1/batches", {"name": "b", "project": "p", "calibration_batch": 1}, "'calibration_batch' must be true or false", id="flag-number"),
        pytest.param("POST", "/v1/callbacks/replay", {"status": "pending"}, "'status' must be one of failed, succeeded", id="replay-status"),
        pytest.param("POST", "/v1/callbacks/replay", {"since": "9999-12-31T23:59:59-23:59"}, "'since'", id="replay-far-time"),
        pytest.param("POST", "/v1/files/import", {"file_url": "ftp://x"}, "'file_url'", id="import-ftp"),
    ],
)  # fmt: skip
async def test_a_body_the_contract_refuses_is_one_400_naming_the_field(
    api: httpx.AsyncClient, method: str, path: str, body: Any, expected: str
) -> None:
    """A body outside its endpoint's schema is a 400 that names the field, before any work."""
    message = error_of(await api.request(method, path, json=body), 400)
    assert expected in message
    assert ok(await api.get("/v1/tasks"))["total"] == 0


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        pytest.param("/v1/tasks", {"limit": "0"}, "'limit' must be between 1 and 100", id="limit-zero"),
        pytest.param("/v1/tasks", {"limit": "x"}, "'limit' must be an integer between 1 and 100, got 'x'", id="limit-text"),
        pytest.param("/v1/tasks", {"status": "pending,"}, "'status'", id="status-trailing-comma"),
        pytest.param("/v1/tasks", {"limited_response": ""}, "'limited_response' must be true or false", id="bool-empty"),
        pytest.param("/v1/tasks", {"created_after": "9999-12-31T23:59:59-23:59"}, "'created_after'", id="far-time"),
        pytest.param("/v1/events", {"since": "0001-01-01T00:00:00+01:00"}, "'since'", id="early-time"),
        pytest.param("/v1/batches", {"offset": str(2**63)}, "'offset'", id="offset-overflow"),
        pytest.param("/v1/batches", {"status": "done"}, "'status' must be one of", id="batch-status"),
    ],
)  # fmt: skip
async def test_a_query_the_contract_refuses_is_one_400_naming_the_parameter(
    api: httpx.AsyncClient, path: str, params: dict[str, str], expected: str
) -> None:
    """A query value outside its parameter's schema is a 400 that names the parameter."""
    assert expected in error_of(await api.get(path, params=params), 400)


@pytest.mark.parametrize(
    "value", ["2024-01-31", "2024-02-29 10:00:00.5", "2024-01-31T10:00:00+05:30", "20240131"]
)
async def test_times_outside_the_generated_pattern_are_still_read(
    api: httpx.AsyncClient, value: str
) -> None:
    """Any date or time fromisoformat reads is accepted, not only what the pattern generates."""
    ok(await api.get("/v1/tasks", params={"created_after": value}))


@pytest.mark.parametrize("path", ["/v1/files/upload", "/v1/files/import"])
async def test_a_fixed_path_answers_405_rather_than_matching_a_parameter(
    api: httpx.AsyncClient, path: str
) -> None:
    """GET on a POST-only fixed path is a 405 naming POST, not a 404 for a file of that id."""
    response = await api.get(path)
    error_of(response, 405)
    assert response.headers["allow"] == "POST"


async def test_scale_aliases_are_documented_with_the_parameter_they_stand_for(
    api: httpx.AsyncClient,
) -> None:
    """start_time and end_time are described under created_after and created_before."""
    served = await document(api)
    parameters = {p["name"]: p for p in served["paths"]["/v1/tasks"]["get"]["parameters"]}
    assert "start_time" not in parameters
    assert "`start_time`" in parameters["created_after"]["description"]
    assert "`end_time`" in parameters["created_before"]["description"]


async def test_tag_lists_are_documented_with_the_configured_limit(api: httpx.AsyncClient) -> None:
    """The document's tag lists state limits.max_tags, except for deleting tags."""
    served = await document(api)
    tags = served["paths"]["/v1/task/{task_id}/tags"]
    for method in ("post", "put"):
        schema = tags[method]["requestBody"]["content"]["application/json"]["schema"]
        assert "At most 5 distinct tags" in schema["description"]
    assert (
        "description" not in tags["delete"]["requestBody"]["content"]["application/json"]["schema"]
    )


async def test_a_null_body_is_refused_where_the_body_is_optional(api: httpx.AsyncClient) -> None:
    """An optional body may be absent, but a JSON null is not an object."""
    ok(await api.post("/v1/callbacks/replay"))
    response = await api.post(
        "/v1/callbacks/replay", content=b"null", headers={"content-type": "application/json"}
    )
    assert "JSON object" in error_of(response, 400)
    response = await api.post(
        "/v1/callbacks/replay", content=b"\x0c", headers={"content-type": "application/json"}
    )
    error_of(response, 400)


async def test_a_created_task_links_to_every_operation_on_a_task(api: httpx.AsyncClient) -> None:
    """The create answer links its task_id to each task operation, so a fuzzer reaches them."""
    served = await document(api)
    links = served["paths"]["/v1/task/{key}"]["post"]["responses"]["200"]["links"]
    targets = {link["operationId"] for link in links.values()}
    on_a_task = {
        operation["operationId"]
        for path, operations in served["paths"].items()
        if "{task_id}" in path or path == "/v1/task/{key}"
        for method, operation in operations.items()
        if (path, method) != ("/v1/task/{key}", "post")
    }
    assert targets == on_a_task
    assert len(targets) == 17


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/v1/projects", {"name": "p", "type": "echo", "params": None}, id="project-params"),
        pytest.param("/v1/task/echo", {"metadata": None, "tags": None, "priority": None, "unique_id": None, "callback_url": None, "instruction": None, "project": None, "batch": None}, id="task-fields"),
        pytest.param("/v1/work/claim", {"worker": "w", "types": None}, id="claim-types"),
        pytest.param("/v1/callbacks/replay", {"status": None, "since": None, "until": None}, id="replay"),
    ],
)  # fmt: skip
async def test_null_optional_fields_mean_absent_as_the_scale_client_sends_them(
    api: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    """An optional field given as null is accepted as absent, as in the document."""
    ok(await api.post(path, json=body))
    served = await document(api)
    schema = served["paths"][path if path != "/v1/task/echo" else "/v1/task/{key}"]["post"]
    properties = schema["requestBody"]["content"]["application/json"]["schema"]["properties"]
    for name in body:
        if name not in ("name", "type", "worker"):
            assert "null" in properties[name]["type"], name
