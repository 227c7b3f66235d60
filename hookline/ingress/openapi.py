"""The OpenAPI 3.1 document, generated from the route table and its contracts so it cannot drift."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

import hookline
from hookline.ingress.answers import ANSWERS
from hookline.ingress.contract import Contract, contract_for
from hookline.ingress.schema_parts import TAGS

_MULTIPART = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}},
        }
    }
}
_ERRORS = {
    "400": "Invalid request: the message names the field or parameter",
    "401": "Missing or invalid API key",
    "403": "The key lacks the scope",
    "404": "Not found, or another account's",
    "409": "Conflict: duplicate unique_id or name, or an illegal transition",
    "413": "Body larger than limits.max_body_bytes",
    "429": "Too many requests; retry after Retry-After seconds",
    "503": "Database unavailable; retry",
}
_DOCUMENT = {
    "type": "object",
    "required": ["openapi", "info", "paths", "components"],
    "properties": {
        "openapi": {"type": "string", "pattern": "^3\\.1\\."},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {"title": {"type": "string"}, "version": {"type": "string"}},
        },
        "paths": {"type": "object", "additionalProperties": {"type": "object"}},
        "components": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
"""The answer of `/v1/openapi.json`: an OpenAPI 3.1 document (its own schema is the spec's)."""
_PUBLIC: list[dict[str, list[str]]] = []
"""`security: []`: no API key needed."""


class Described(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def scope(self) -> Any: ...
    @property
    def body(self) -> str | None: ...
    @property
    def params(self) -> tuple[str, ...]: ...


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _parameters(api: Described, contract: Contract) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": contract.path.get(name, {"type": "string", "minLength": 1}),
        }
        for name in re.findall(r"{(\w+)}", api.path)
    ]
    aliases = {p.alias_of: n for n, p in contract.params.items() if p.alias_of}
    for name in api.params:
        param = contract.params[name]
        if param.alias_of is not None:
            continue  # described with the parameter it stands for
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False}
        if param.repeated:
            parameter |= {
                "schema": {"type": "array", "items": param.schema},
                "style": "form",
                "explode": True,
            }
        else:
            parameter["schema"] = param.schema
        description = [param.description or param.schema.get("description", "")]
        if name in aliases:
            description.append(f"Scale's alias `{aliases[name]}` is accepted too (give only one).")
        if any(description):
            parameter["description"] = " ".join(d for d in description if d)
        parameters.append(parameter)
    return parameters


def _success(contract: Contract) -> dict[str, Any]:
    if contract.answer == "FileContent":
        return {
            "200": {
                "description": "The file's content, in the type it was uploaded with",
                "content": {"*/*": {"schema": _ref("FileContent")}},
            },
            "307": {
                "description": "An imported file: its source URL",
                "headers": {"Location": {"schema": {"type": "string"}, "required": True}},
            },
        }
    return {"200": _json("Success", _ref(contract.answer))}


def _operation_id(api: Described) -> str:
    return f"{api.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', api.path).strip('_')}"


def _task_links(apis: list[Described]) -> dict[str, Any]:
    """Links from a created task to every operation on a task, for stateful fuzzing."""
    links: dict[str, Any] = {}
    for api in apis:
        if api.path == "/v1/task/{key}" and api.method == "GET":
            name, parameters = "get", {"key": "$response.body#/task_id"}
        elif "{task_id}" in api.path:
            name, parameters = _operation_id(api), {"task_id": "$response.body#/task_id"}
        else:
            continue
        links[name] = {"operationId": _operation_id(api), "parameters": parameters}
    return links


def _with_max_tags(schema: dict[str, Any], max_tags: int) -> dict[str, Any]:
    """`schema` saying limits.max_tags (a setting): at most that many distinct tags.

    Not `maxItems`: repeated tags count once, and adding counts the task's own.
    """
    note = {"description": f"At most {max_tags} distinct tags (limits.max_tags) on the task."}
    if schema is TAGS:
        return schema | note
    if "tags" in schema.get("properties", {}):
        tags = schema["properties"]["tags"] | note
        return schema | {"properties": schema["properties"] | {"tags": tags}}
    return schema


def _operation(api: Described, max_tags: int) -> dict[str, Any]:
    contract = contract_for(api.method, api.path)
    operation: dict[str, Any] = {
        "summary": api.summary,
        "operationId": _operation_id(api),
        "tags": [api.path.split("/")[2]],
        "parameters": _parameters(api, contract),
        "responses": _success(contract) | {code: _error(text) for code, text in _ERRORS.items()},
    }
    if api.scope is not None:
        operation["description"] = f"Needs the `{api.scope.value}` scope."
    if api.body == "multipart":
        operation["requestBody"] = {"required": True, "content": _MULTIPART}
    elif api.body is not None and contract.body is not None:
        schema = (
            contract.body if api.method == "DELETE" else _with_max_tags(contract.body, max_tags)
        )
        operation["requestBody"] = {
            "required": contract.body_required,
            "content": {"application/json": {"schema": schema}},
        }
    if api.body in ("object", "array"):
        operation["responses"]["415"] = _error("Body sent without Content-Type: application/json")
    return operation


def openapi_document(apis: Iterable[Described], *, max_tags: int) -> dict[str, Any]:
    """The document for the route table; `max_tags` is limits.max_tags."""
    status = {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"const": "ok"}, "database": {"type": "string"}},
    }
    paths: dict[str, dict[str, Any]] = {
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "operationId": "get_healthz",
                "security": _PUBLIC,
                "responses": {"200": _json("Alive", status)},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: the database answers",
                "operationId": "get_readyz",
                "security": _PUBLIC,
                "responses": {"200": _json("Ready", status), "503": _error("Not ready")},
            }
        },
        "/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "get_openapi",
                "security": _PUBLIC,
                "responses": {"200": _json("OpenAPI 3.1", _DOCUMENT)},
            }
        },
    }
    apis = list(apis)
    for api in apis:
        paths.setdefault(api.path, {})[api.method.lower()] = _operation(api, max_tags)
    paths["/v1/task/{key}"]["post"]["responses"]["200"]["links"] = _task_links(apis)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hookline",
            "version": hookline.__version__,
            "description": "Scale-compatible v1 Task API with guaranteed callbacks.",
        },
        "servers": [{"url": "/"}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": ANSWERS,
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "The API key as username, empty password.",
                },
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
