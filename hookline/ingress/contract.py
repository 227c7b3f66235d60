"""What each v1 endpoint takes and answers, as JSON Schemas: one definition, two uses.

The route wrapper checks every request against its endpoint's `Contract`
before the handler runs (one 400 naming the field or parameter), and
`openapi.py` publishes the same schemas, so the document cannot promise
what the server refuses, nor hide what it refuses. Handlers keep their own
checks for what a schema cannot say (limits from the settings, state).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import fastjsonschema
import jsonschema
from jsonschema.exceptions import best_match

from hookline.errors import Invalid
from hookline.ingress import catalog, trail
from hookline.ingress.query import (
    INT32_MAX,
    INT64_MAX,
    MAX_LIMIT,
    REVIEW_STATUSES,
    TASK_LIST_PARAMS,
    parse_time,
)
from hookline.ingress.tasks import MAX_WAIT_S
from hookline.ingress.work import MAX_LEASE_S
from hookline.models import BatchStatus, DeliveryStatus, ReviewResult, TaskStatus
from hookline.submission import MAX_NAME_LENGTH, MAX_UNIQUE_ID_LENGTH, type_name

Schema = dict[str, Any]

MAX_SECONDS = 10**9
"""A bound on durations in seconds (about 31 years)."""


# --- building blocks ---------------------------------------------------------------------------


_NO_NUL = r"^[^\u0000]*$"
"""No string may hold NUL: PostgreSQL cannot store it, so no backend takes it."""


def _string(min_length: int = 0, max_length: int | None = None, **more: Any) -> Schema:
    schema: Schema = (
        {"type": "string"} if "format" in more else {"type": "string", "pattern": _NO_NUL}
    )
    if min_length:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema | more


def _nullable(schema: Schema) -> Schema:
    return schema | {"type": [schema["type"], "null"]}


def _opt(schema: Schema) -> Schema:
    """An optional field the handler also takes as null, meaning absent (as clients send it)."""
    if "enum" in schema:
        return schema | {"type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    return _nullable(schema)


def _object(required: Sequence[str] = (), **properties: Schema) -> Schema:
    """An object with these `properties`; any other field is JSON without NUL, and ignored."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "propertyNames": {"pattern": _NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/JSONValue"},
    }
    if required:
        schema["required"] = list(required)
    return schema


def _enum(values: Sequence[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


def _comma_list(values: Sequence[str]) -> Schema:
    """A comma-separated list of `values` (spaces around items allowed)."""
    item = "(" + "|".join(re.escape(v) for v in sorted(values)) + ")"
    return _string(
        1,
        pattern=rf"^ *{item} *(, *{item} *)*$",
        description=f"A comma list of {', '.join(sorted(values))}",
    )


_BLANKLESS = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
"""A required text field: at least one non-space character."""
_ANY: Schema = {"$ref": "#/components/schemas/JSONValue"}
_JSON_OBJECT: Schema = {
    "type": "object",
    "propertyNames": {"pattern": _NO_NUL},
    "additionalProperties": _ANY,
}
JSON_VALUE: Schema = {
    "description": "Any JSON value without NUL in its strings",
    "anyOf": [
        {"type": ["null", "boolean", "number"]},
        {"type": "string", "pattern": _NO_NUL},
        {"type": "array", "items": _ANY},
        _JSON_OBJECT,
    ],
}
_TIME = _string(format="date-time")
_NULLABLE_TIME = _nullable(_TIME)
_HTTP_URL = _string(
    1, 2048, pattern=r"^https?://[A-Za-z0-9._~-]+(:[0-9]{1,5})?([/?#][^\s\u0000]*)?$"
)
"""What `check_callback_url` accepts, narrowed to what is easy to state: http(s) and a host."""
_NAME = _string(1, MAX_NAME_LENGTH, pattern=_BLANKLESS)
_TAG = _string(1, 200)
TAGS: Schema = {"type": "array", "items": _TAG}
"""A tag list; the document adds limits.max_tags as its maxItems."""
_TAGS = TAGS
_OBJECT_ID = _string(pattern=r"^[0-9a-f]{24}$")
_TIME_PATTERN = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$"
)
"""The dates and times a fuzzer should generate; the server reads any `fromisoformat` reads."""
_QUERY_TIME = _string(
    pattern=_TIME_PATTERN,
    description=(
        "A date (YYYY-MM-DD) or time ('YYYY-MM-DD HH:MM:SS.ffffff' or ISO 8601); "
        "no offset means UTC"
    ),
)
_LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
_BOOL: Schema = {"type": "boolean"}


# --- request contracts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter: its schema, and whether it may be repeated."""

    schema: Schema
    repeated: bool = False
    description: str | None = None
    alias_of: str | None = None
    """Scale's other name for a parameter: documented with it, never given together."""


@dataclass(frozen=True, slots=True)
class Contract:
    """One endpoint's request body schema, query parameters, path parameters and answer."""

    answer: str
    """The name of the answer's schema in `ANSWERS` (components/schemas)."""
    body: Schema | None = None
    body_required: bool = True
    params: Mapping[str, Param] = field(default_factory=dict)
    path: Mapping[str, Schema] = field(default_factory=dict)


_TASK_ID = {"task_id": _OBJECT_ID}
_PAGE_PARAMS = {"limit": Param(_LIMIT), "next_token": Param(_string(1, format="event-cursor"))}
_SINCE_UNTIL = {"since": Param(_QUERY_TIME), "until": Param(_QUERY_TIME)}

TASK_LIST: dict[str, Param] = {
    "start_time": Param(_QUERY_TIME, alias_of="created_after"),
    "end_time": Param(_QUERY_TIME, alias_of="created_before"),
    **{
        name: Param(_QUERY_TIME)
        for name in (
            "created_after",
            "created_before",
            "updated_after",
            "updated_before",
            "completed_after",
            "completed_before",
        )
    },
    "status": Param(_comma_list([s.value for s in TaskStatus]), repeated=True),
    "type": Param(_string(1)),
    "project": Param(_string(1)),
    "batch": Param(_string(1)),
    "customer_review_status": Param(_comma_list(sorted(REVIEW_STATUSES)), repeated=True),
    "unique_id": Param(_string(1), repeated=True, description="Repeat for any of several."),
    "tags": Param(_string(1), repeated=True, description="Repeat for any of several."),
    "limit": Param(_LIMIT),
    "next_token": Param(_string(1, format="task-cursor")),
    "limited_response": Param(_BOOL),
    "include_attachment_url": Param(_BOOL),
}
BATCH_LIST: dict[str, Param] = {
    "start_time": Param(_QUERY_TIME),
    "end_time": Param(_QUERY_TIME),
    "exclude_archived": Param(_BOOL),
    "status": Param(_enum([s.value for s in BatchStatus])),
    "project": Param(_string(1)),
    "limit": Param(_LIMIT),
    "offset": Param({"type": "integer", "minimum": 0, "maximum": INT64_MAX}),
}
EVENT_LIST: dict[str, Param] = {
    "task_id": Param(_string(1)),
    "action": Param(
        _comma_list(sorted(trail.EVENT_ACTIONS)),
        repeated=True,
        description="A comma list of actions.",
    ),
    "actor": Param(_string(1)),
    "project": Param(_string(1)),
    **_SINCE_UNTIL,
    **_PAGE_PARAMS,
}
AUDIT_LIST: dict[str, Param] = {
    "result": Param(_comma_list([r.value for r in ReviewResult]), repeated=True),
    "auditor": Param(_string(1)),
    "project": Param(_string(1)),
    **_SINCE_UNTIL,
    **_PAGE_PARAMS,
}

_WORKER = _string(1, 200, pattern=_BLANKLESS)
_LEASE_S: Schema = {"type": "number", "minimum": 1, "maximum": MAX_LEASE_S}
_REASON = _object(reason=_opt(_string()))
_METADATA = _JSON_OBJECT | {"description": "The new metadata (any JSON object); replaces the old."}
_PARAMS = _JSON_OBJECT | {"description": "Params merged over the current ones into a new version."}

_CREATE_TASK = (
    _JSON_OBJECT
    | _object(
        callback_url=_opt(_string(max_length=2048, pattern=_HTTP_URL["pattern"] + "|^$")),
        instruction=_opt(_string()),
        unique_id=_opt(_string(1, MAX_UNIQUE_ID_LENGTH)),
        tags=_opt(_TAGS),
        metadata=_opt(_JSON_OBJECT),
        project=_opt(_string(1, MAX_NAME_LENGTH)),
        batch=_opt(_string(1, MAX_NAME_LENGTH)),
        priority=_opt({"type": "integer", "minimum": -INT32_MAX - 1, "maximum": INT32_MAX}),
    )
    | {
        "propertyNames": {"pattern": _NO_NUL},
        "additionalProperties": _ANY,
        "description": (
            "The task fields below; every other field is a param of the task type "
            "(checked against the type's params schema)."
        ),
    }
)
_AUDIT = _object(
    accepted=_BOOL,
    result=_enum([r.value for r in ReviewResult]),
    comments=_opt(_string()),
    audit_time_secs=_opt({"type": "number", "minimum": 0, "maximum": MAX_SECONDS}),
    response=_ANY,
) | {
    "description": (
        "A customer's {accepted} or a reviewer's {result}; only a `fixed` result may carry "
        "the corrected `response`."
    ),
    "anyOf": [{"required": ["accepted"]}, {"required": ["result"]}],
    "if": {"required": ["response"]},
    "then": {
        "required": ["result"],
        "properties": {"result": {"const": "fixed"}, "response": {"not": {"type": "null"}}},
    },
}

CONTRACTS: dict[tuple[str, str], Contract] = {
    ("POST", "/v1/task/{key}"): Contract("Task", _CREATE_TASK, path={"key": _string(1, 100)}),
    ("GET", "/v1/task/{key}"): Contract(
        "Task",
        params={"wait_s": Param({"type": "number", "minimum": 0, "maximum": MAX_WAIT_S})},
        path={"key": _OBJECT_ID},
    ),
    ("GET", "/v1/tasks"): Contract("TaskPage", params=TASK_LIST),
    ("POST", "/v1/task/{task_id}/cancel"): Contract(
        "Task", params={"clear_unique_id": Param(_BOOL)}, path=_TASK_ID
    ),
    ("POST", "/v1/task/{task_id}/unique_id"): Contract(
        "Task", _object(["unique_id"], unique_id=_string(1, MAX_UNIQUE_ID_LENGTH)), path=_TASK_ID
    ),
    ("DELETE", "/v1/task/{task_id}/unique_id"): Contract("Task", path=_TASK_ID),
    ("POST", "/v1/task/{task_id}/setMetadata"): Contract("Task", _METADATA, path=_TASK_ID),
    ("POST", "/v1/task/{task_id}/tags"): Contract("Task", _TAGS, path=_TASK_ID),
    ("PUT", "/v1/task/{task_id}/tags"): Contract("Task", _TAGS, path=_TASK_ID),
    ("DELETE", "/v1/task/{task_id}/tags"): Contract("Task", _TAGS, path=_TASK_ID),
    ("POST", "/v1/task/{task_id}/audit"): Contract("Task", _AUDIT, path=_TASK_ID),
    ("POST", "/v1/projects"): Contract(
        "Project",
        _object(
            ["name", "type"],
            name=_NAME,
            type=_string(1, 100, pattern=_BLANKLESS),
            params=_opt(_JSON_OBJECT),
        ),
    ),
    ("GET", "/v1/projects"): Contract("ProjectList"),
    ("GET", "/v1/projects/{name}"): Contract("Project", path={"name": _NAME}),
    ("POST", "/v1/projects/{name}/setParams"): Contract("Project", _PARAMS, path={"name": _NAME}),
    ("POST", "/v1/batches"): Contract(
        "Batch",
        _object(
            ["name", "project"],
            name=_NAME,
            project=_NAME,
            callback=_opt(
                _string(
                    max_length=2048,
                    description="A URL to POST to, or an email address to notify.",
                    pattern=_HTTP_URL["pattern"]
                    + r"|^$|^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+\.[A-Za-z]+$",
                )
            ),
            metadata=_opt(_JSON_OBJECT),
            calibration_batch=_opt(_BOOL),
            self_label_batch=_opt(_BOOL),
        ),
    ),
    ("GET", "/v1/batches"): Contract("BatchPage", params=BATCH_LIST),
    ("GET", "/v1/batches/{name}"): Contract("Batch", path={"name": _NAME}),
    ("POST", "/v1/batches/{name}/finalize"): Contract("Batch", path={"name": _NAME}),
    ("GET", "/v1/batches/{name}/status"): Contract("BatchCounts", path={"name": _NAME}),
    ("POST", "/v1/batches/{name}/setMetadata"): Contract("Batch", _METADATA, path={"name": _NAME}),
    ("POST", "/v1/files/upload"): Contract("File"),
    ("POST", "/v1/files/import"): Contract("File", _object(["file_url"], file_url=_HTTP_URL)),
    ("GET", "/v1/files/{file_id}"): Contract("FileContent", path={"file_id": _OBJECT_ID}),
    ("GET", "/v1/teams"): Contract("Teammates"),
    ("POST", "/v1/work/claim"): Contract(
        "Claim",
        _object(
            ["worker"],
            worker=_WORKER,
            lease_s=_LEASE_S,
            types=_opt({"type": "array", "items": _string(1)}),
        ),
    ),
    ("POST", "/v1/task/{task_id}/heartbeat"): Contract(
        "LeasedTask", _object(["worker"], worker=_WORKER, lease_s=_LEASE_S), path=_TASK_ID
    ),
    ("POST", "/v1/task/{task_id}/complete"): Contract(
        "LeasedTask",
        _object(
            ["worker", "response"],
            worker=_WORKER,
            response={"allOf": [_ANY, {"not": {"type": "null"}}]},
        ),
        path=_TASK_ID,
    ),
    ("POST", "/v1/task/{task_id}/fail"): Contract(
        "LeasedTask",
        _object(
            ["worker", "error"],
            worker=_WORKER,
            error=_string(1, 10_000, pattern=_BLANKLESS),
            retry=_BOOL,
        ),
        path=_TASK_ID,
    ),
    ("POST", "/v1/task/{task_id}/redo"): Contract(
        "LeasedTask", _REASON, body_required=False, path=_TASK_ID
    ),
    ("POST", "/v1/task/{task_id}/retry"): Contract(
        "LeasedTask", _REASON, body_required=False, path=_TASK_ID
    ),
    ("GET", "/v1/task/{task_id}/events"): Contract("EventPage", params=_PAGE_PARAMS, path=_TASK_ID),
    ("GET", "/v1/events"): Contract("EventPage", params=EVENT_LIST),
    ("GET", "/v1/audits"): Contract("AuditPage", params=AUDIT_LIST),
    ("GET", "/v1/account"): Contract("Credentials"),
    ("POST", "/v1/account/rotate_webhook_secret"): Contract("Credentials"),
    ("GET", "/v1/task/{task_id}/callbacks"): Contract("Deliveries", path=_TASK_ID),
    ("POST", "/v1/task/{task_id}/callbacks/resend"): Contract("Deliveries", path=_TASK_ID),
    ("POST", "/v1/callbacks/replay"): Contract(
        "Replayed",
        _object(
            status=_opt(_enum([DeliveryStatus.FAILED.value, DeliveryStatus.SUCCEEDED.value])),
            since=_opt(_QUERY_TIME),
            until=_opt(_QUERY_TIME),
        ),
        body_required=False,
    ),
}
"""Every endpoint of the route table `app.API`, by method and path."""

LIST_PARAMS: dict[str, frozenset[str]] = {
    "/v1/tasks": TASK_LIST_PARAMS,
    "/v1/batches": catalog.BATCH_LIST_PARAMS,
    "/v1/events": trail.EVENT_PARAMS,
    "/v1/audits": trail.AUDIT_PARAMS,
}
"""The parameter names the list handlers accept; the contracts type exactly these."""


def contract_for(method: str, path: str) -> Contract:
    """The contract of an endpoint in the route table (KeyError names a missing one)."""
    return CONTRACTS[(method, path)]


# --- answers -----------------------------------------------------------------------------------

_STR_OR_NULL = {"type": ["string", "null"]}
_AUDIT_ANSWER = _object(
    ["audited_by", "audited_at", "audit_time_secs", "audit_result", "audit_source", "comments"],
    audited_by=_STR_OR_NULL,
    audited_at=_NULLABLE_TIME,
    audit_time_secs={"type": ["number", "null"]},
    audit_result=_enum([r.value for r in ReviewResult]),
    audit_source=_STR_OR_NULL,
    comments=_STR_OR_NULL,
)
_TASK_PROPERTIES: dict[str, Schema] = {
    "task_id": _OBJECT_ID,
    "type": _string(),
    "status": _enum([s.value for s in TaskStatus]),
    "instruction": _STR_OR_NULL,
    "params": _JSON_OBJECT,
    "callback_url": _STR_OR_NULL,
    "callback_completed": _BOOL,
    "created_at": _TIME,
    "updated_at": _TIME,
    "completed_at": _NULLABLE_TIME,
    "response": _ANY,
    "metadata": _JSON_OBJECT,
    "audits": {"type": "array", "items": _AUDIT_ANSWER},
    "project": _STR_OR_NULL,
    "batch": _STR_OR_NULL,
    "customer_review_status": _STR_OR_NULL,
    "times_redone": {"type": "integer"},
    "is_test": _BOOL,
    "tags": {"type": "array", "items": _string()},
    "unique_id": _string(),
    "priority": {"type": "integer"},
    "error": _ANY,
}
_TASK = {
    "type": "object",
    "required": [
        k for k in _TASK_PROPERTIES if k not in ("tags", "unique_id", "priority", "error")
    ],
    "properties": _TASK_PROPERTIES,
}
_LIMITED_TASK = _object(
    ["task_id", "status", "metadata", "project"],
    task_id=_OBJECT_ID,
    status=_enum([s.value for s in TaskStatus]),
    metadata=_JSON_OBJECT,
    project=_STR_OR_NULL,
)
_LEASE = _nullable(
    _object(
        ["worker", "expires_at", "attempt"],
        worker=_string(),
        expires_at=_NULLABLE_TIME,
        attempt={"type": "integer"},
    )
)
_LEASED_TASK = _TASK | {
    "required": [*_TASK["required"], "lease"],
    "properties": _TASK_PROPERTIES | {"lease": _LEASE},
}
_PROJECT = _object(
    ["type", "name", "param_history", "params", "created_at"],
    type=_string(),
    name=_string(),
    param_history={"type": "array", "items": _JSON_OBJECT},
    params=_JSON_OBJECT,
    created_at=_TIME,
)
_BATCH = _object(
    ["name", "project", "status", "callback", "metadata", "created_at", "finalized_at"],
    name=_string(),
    project=_string(),
    status=_enum([s.value for s in BatchStatus]),
    callback=_STR_OR_NULL,
    metadata=_JSON_OBJECT,
    calibration_batch=_BOOL,
    self_label_batch=_BOOL,
    created_at=_TIME,
    finalized_at=_NULLABLE_TIME,
)
_EVENT = _object(
    ["id", "task_id", "at", "actor", "action", "from_status", "to_status", "reason", "details"],
    id={"type": "integer"},
    task_id=_string(),
    at=_TIME,
    actor=_string(),
    action=_string(),
    from_status=_STR_OR_NULL,
    to_status=_STR_OR_NULL,
    reason=_STR_OR_NULL,
    details={"type": ["object", "null"]},
)
_AUDIT_RECORD = _AUDIT_ANSWER | {
    "required": ["id", "task_id", "project", *_AUDIT_ANSWER["required"]],
    "properties": _AUDIT_ANSWER["properties"]
    | {"id": {"type": "integer"}, "task_id": _string(), "project": _STR_OR_NULL},
}
_DELIVERY = _object(
    ["id", "status", "url", "event", "next_attempt_at", "attempts", "created_at"],
    id=_string(),
    status=_enum([s.value for s in DeliveryStatus]),
    url=_string(),
    event=_string(),
    next_attempt_at=_NULLABLE_TIME,
    attempts={
        "type": "array",
        "items": _object(
            ["at"],
            at=_TIME,
            status_code={"type": ["integer", "null"]},
            error=_STR_OR_NULL,
            duration_ms={"type": ["number", "null"]},
            body=_STR_OR_NULL,
        ),
    },
    created_at=_TIME,
)


def _page(item: Schema, *, token: bool = True) -> Schema:
    page = _object(["docs", "has_more"], docs={"type": "array", "items": item}, has_more=_BOOL)
    if token:
        page["required"].append("next_token")
        page["properties"]["next_token"] = _STR_OR_NULL
    return page


ANSWERS: dict[str, Schema] = {
    "JSONValue": JSON_VALUE,
    "Error": _object(["status_code", "error"], status_code={"type": "integer"}, error=_string(1)),
    "Task": _TASK,
    "LeasedTask": _LEASED_TASK,
    "Claim": _object(["task"], task=_LEASED_TASK | {"type": ["object", "null"]}),
    "TaskPage": _page({"anyOf": [_TASK, _LIMITED_TASK]})
    | {
        "required": ["docs", "total", "limit", "offset", "has_more", "next_token"],
    },
    "Project": _PROJECT,
    "ProjectList": {"type": "array", "items": _PROJECT},
    "Batch": _BATCH,
    "BatchPage": _page(_BATCH, token=False),
    "BatchCounts": _object(["status"], status=_enum([s.value for s in BatchStatus]))
    | {"additionalProperties": {"type": "integer"}},
    "File": _object(
        ["id", "attachment_url", "filename", "mime_type", "size", "sha256", "created_at"],
        id=_OBJECT_ID,
        attachment_url=_string(1),
        filename=_STR_OR_NULL,
        mime_type=_STR_OR_NULL,
        size={"type": ["integer", "null"]},
        sha256=_STR_OR_NULL,
        created_at=_TIME,
    ),
    "FileContent": {"type": "string", "format": "binary"},
    "Teammates": {
        "type": "array",
        "items": _object(["email", "role"], email=_string(), role=_string()),
    },
    "EventPage": _page(_EVENT),
    "AuditPage": _page(_AUDIT_RECORD),
    "Credentials": _object(
        ["account", "callback_auth_key", "webhook_secret"],
        account=_string(),
        callback_auth_key=_string(),
        webhook_secret=_string(),
        previous_webhook_secret=_string(),
        previous_secret_expires_at=_NULLABLE_TIME,
    ),
    "Deliveries": _object(["deliveries"], deliveries={"type": "array", "items": _DELIVERY}),
    "Replayed": _object(["replayed"], replayed={"type": "integer", "minimum": 0}),
}
_TASK_PAGE = ANSWERS["TaskPage"]
_TASK_PAGE["properties"] |= {
    "total": {"type": "integer"},
    "limit": {"type": "integer"},
    "offset": {"type": "integer"},
}
ANSWERS["BatchPage"]["required"] += ["totalDocs", "limit", "offset"]
ANSWERS["BatchPage"]["properties"] |= {
    "totalDocs": {"type": "integer"},
    "limit": {"type": "integer"},
    "offset": {"type": "integer"},
}


# --- checking a request ------------------------------------------------------------------------

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "an array",
    "null": "null",
}


def _formats() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        """Scale's `2024-01-02T03:04:05.678Z`, as answers carry it."""
        return not isinstance(value, str) or bool(_ANSWER_TIME.fullmatch(value))

    return checker


_ANSWER_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_CHECKER = _formats()
_VALIDATORS: dict[int, jsonschema.protocols.Validator] = {}


def _pattern(
    validator: jsonschema.protocols.Validator, pattern: str, instance: Any, schema: Schema
) -> Iterator[jsonschema.ValidationError]:
    """`pattern`, except for times and URLs: those patterns tell a fuzzer what to generate.
    A time is checked by reading it, as the handlers do (`_time_message` words the
    refusal); a URL is left to `check_callback_url`, whose messages say what is wrong."""
    if pattern.startswith(_HTTP_URL["pattern"]):
        return
    if pattern != _TIME_PATTERN:
        yield from _PATTERN(validator, pattern, instance, schema)
        return
    if isinstance(instance, str) and _time_message("time", instance) is not None:
        yield jsonschema.ValidationError(f"{instance!r} is not a date or time")


def _time_message(name: str, value: str) -> str | None:
    """Why `value` is no time (the words of `query.parse_time`), or None if it is one."""
    try:
        parse_time(name, value)
    except Invalid as exc:
        return exc.message
    return None


def _refused_time(name: str, error: jsonschema.ValidationError) -> str | None:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if schema.get("pattern") != _TIME_PATTERN or not isinstance(error.instance, str):
        return None
    return _time_message(name, error.instance)


_PATTERN = jsonschema.Draft202012Validator.VALIDATORS["pattern"]
_Validator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator, {"pattern": _pattern}
)


def validator_for(schema: Schema) -> jsonschema.protocols.Validator:
    """A validator for one of the document's schemas (its `$ref`s resolve to `ANSWERS`)."""
    root = schema | {"components": {"schemas": ANSWERS}}
    validator: jsonschema.protocols.Validator = _Validator(root, format_checker=_CHECKER)
    return validator


_FAST: dict[int, Callable[[Any], Any] | None] = {}


def _accepts_fast(schema: Schema, value: Any) -> bool:
    """True if a compiled, strict reading of `schema` accepts `value` (ten times cheaper).

    Strict: the patterns of times and URLs apply as written, so whatever it accepts the
    lenient validator accepts too; what it refuses is judged again by that one, which
    also words the message. Draft 7 holds every keyword the contracts use.
    """
    key = id(schema)
    if key not in _FAST:
        root = schema | {"components": {"schemas": ANSWERS}}
        try:
            _FAST[key] = fastjsonschema.compile(
                root, formats={"date-time": lambda v: bool(_ANSWER_TIME.fullmatch(v))}
            )
        except fastjsonschema.JsonSchemaDefinitionException:  # pragma: no cover - never for ours
            _FAST[key] = None
    fast = _FAST[key]
    if fast is None:  # pragma: no cover
        return False
    try:
        fast(value)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _validator(schema: Schema) -> jsonschema.protocols.Validator:
    key = id(schema)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = validator_for(schema)
    return _VALIDATORS[key]


def _expected(schema: Mapping[str, Any]) -> str:
    """`schema`'s constraint in words: "an integer from 1 to 100", "a string of 1 to 200 characters"."""
    types = schema.get("type")
    if isinstance(types, list):  # an optional field: null means absent, so name the other type
        types = next((t for t in types if t != "null"), None)
    kind = _TYPE_WORDS.get(types, "a value") if isinstance(types, str) else "a value"
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{kind} between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"{kind} of at least {_number(low)}"
    if high is not None:
        return f"{kind} of at most {_number(high)}"
    short, long_ = schema.get("minLength"), schema.get("maxLength")
    if short is not None and long_ is not None:
        return f"{kind} of {short} to {long_} characters"
    if long_ is not None:
        return f"{kind} of at most {long_} characters"
    if short:
        return f"a non-empty {kind.removeprefix('a ')}"
    return kind


def _number(value: float) -> str:
    """A bound as a person writes it: 2147483647, not 2.14748e+09."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _field_message(where: str, error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            # The words of the edge's own checks (query.parse_int): one message per mistake.
            return f"{where} must be between {_number(low)} and {_number(high)}"
    if error.validator == "type":
        return f"{where} must be {_expected(schema)}, got {type_name(error.instance)}"
    if error.validator == "pattern":
        if schema.get("pattern") == _BLANKLESS:
            return f"{where} must not be blank"
        if "description" in schema:
            return f"{where} must be {schema['description'][0].lower()}{schema['description'][1:]}"
        return f"{where} must match {schema['pattern']}"
    if error.validator in ("minItems", "maxItems"):
        return f"{where} has the wrong number of items: {error.message}"
    if error.validator == "not":
        return f"{where} must not be null"
    return f"{where} must be {_expected(schema)}"


def check_body(contract: Contract, body: Any, *, given: bool = True) -> None:
    """Raise `Invalid` naming the first field of `body` its contract refuses.

    `given` says whether the request had a body at all (a JSON `null` is one).

    Raises:
        Invalid: the body does not match the endpoint's schema.
    """
    schema = contract.body
    if schema is None or (not given and not contract.body_required):
        return
    if body is None and schema.get("type") == "object":
        raise Invalid("The request body must be a JSON object, got null")
    if _accepts_fast(schema, body):
        return
    error = best_match(_validator(schema).iter_errors(body))
    if error is None:
        return
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        prefix = "".join(f"{part}." for part in path)
        raise Invalid(f"Missing required field {prefix + missing[0]!r}")
    if (error.validator == "anyOf" and not path) or "then" in error.schema_path:
        raise Invalid(schema.get("description", f"The request body is invalid: {error.message}"))
    if not path:
        raise Invalid(f"The request body must be {_expected(schema)}, got {type_name(body)}")
    time_refused = _refused_time(".".join(str(p) for p in path), error)
    if time_refused is not None:
        raise Invalid(time_refused)
    where = "Field " + repr(".".join(str(p) for p in path))
    if path[0] == "tags" or schema.get("type") == "array":
        where = f"Field {'tags' if schema.get('type') != 'array' else 'body'!r}"
        if error.validator in ("minLength", "maxLength"):
            raise Invalid("Tags must be 1 to 200 characters long")
        if error.validator == "type" and path[-1] != "tags":
            raise Invalid(f"{where} must be an array of strings")
    raise Invalid(_field_message(where, error))


def _coerce(schema: Schema, raw: str) -> Any:
    """A query string value as the JSON value its schema describes, or `raw` if it is not one."""
    kind = schema.get("type")
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.strip().lower(), raw)
    if kind in ("integer", "number"):
        text = raw.strip()
        if re.fullmatch(r"[+-]?[0-9]+", text):
            return int(text)
        if kind == "number" and re.fullmatch(
            r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", text
        ):
            return float(text)
    return raw


def check_query(contract: Contract, query: Mapping[str, Sequence[str]]) -> None:
    """Raise `Invalid` naming the first query parameter its contract refuses.

    Unknown parameters are left to the handlers (each names the ones it allows).

    Raises:
        Invalid: a value does not match its parameter's schema.
    """
    for name, values in query.items():
        param = contract.params.get(name)
        if param is None:
            continue
        if len(values) > 1 and not param.repeated:
            raise Invalid(f"Parameter {name!r} was given {len(values)} times; give it once")
        for raw in values:
            value = _coerce(param.schema, raw)
            error = best_match(_validator(param.schema).iter_errors(value))
            if error is not None:
                time_refused = _refused_time(name, error)
                if time_refused is not None:
                    raise Invalid(time_refused)
                if error.validator == "type":
                    raise Invalid(
                        f"Parameter {name!r} must be {_expected(param.schema)}, got {raw!r}"
                    )
                raise Invalid(_field_message(f"Parameter {name!r}", error) + f", got {raw!r}")
