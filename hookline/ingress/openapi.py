"""The OpenAPI 3.1 document, generated from the route table so it cannot drift."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

import hookline

_ERROR = {
    "type": "object",
    "required": ["status_code", "error"],
    "properties": {"status_code": {"type": "integer"}, "error": {"type": "string"}},
}
_BODIES: dict[str, dict[str, Any]] = {
    "object": {"application/json": {"schema": {"type": "object"}}},
    "array": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}},
    "multipart": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


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


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _operation(api: Described) -> dict[str, Any]:
    path_params = re.findall(r"{(\w+)}", api.path)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in path_params
    ] + [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in api.params
    ]
    operation: dict[str, Any] = {
        "summary": api.summary,
        "operationId": f"{api.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', api.path).strip('_')}",
        "tags": [api.path.split("/")[2]],
        "parameters": parameters,
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {}}},
            "400": _error("Invalid request"),
            "401": _error("Missing or invalid API key"),
            "403": _error("The key lacks the scope"),
            "404": _error("Not found, or another account's"),
            "409": _error("Conflict: duplicate unique_id or name, or an illegal transition"),
            "413": _error("Body larger than limits.max_body_bytes"),
            "429": _error("A rate limit is used up; retry after Retry-After seconds"),
            "503": _error("Database unavailable; retry"),
        },
    }
    if api.scope is not None:
        operation["description"] = f"Needs the `{api.scope.value}` scope."
    if api.body is not None:
        operation["requestBody"] = {"required": True, "content": _BODIES[api.body]}
    if api.body in ("object", "array"):
        operation["responses"]["415"] = _error("Body sent without Content-Type: application/json")
    return operation


def openapi_document(apis: Iterable[Described]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {
        "/healthz": {
            "get": {"summary": "Liveness", "responses": {"200": {"description": "Alive"}}}
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: the database answers",
                "responses": {"200": {"description": "Ready"}, "503": _error("Not ready")},
            }
        },
        "/v1/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}
        },
    }
    for api in apis:
        paths.setdefault(api.path, {})[api.method.lower()] = _operation(api)
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
            "schemas": {"Error": _ERROR},
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
