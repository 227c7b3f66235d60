"""What each v1 endpoint takes, as JSON Schemas: one definition, two uses.

The route wrapper checks every request against its endpoint's `Contract`
before the handler runs (`validation.py`: one 400 naming the field or
parameter), and `openapi.py` publishes the same schemas with the answers of
`answers.py`, so the document cannot promise what the server refuses, nor
hide what it refuses. Handlers keep their own checks for what a schema cannot
say (limits from the settings, state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hookline.ingress import catalog, trail
from hookline.ingress.query import INT32_MAX, INT64_MAX, REVIEW_STATUSES, TASK_LIST_PARAMS
from hookline.ingress.schema_parts import (
    ANY,
    BLANKLESS,
    BOOL,
    HTTP_URL,
    JSON_OBJECT,
    LIMIT,
    NAME,
    NO_NUL,
    OBJECT_ID,
    QUERY_TIME,
    TAGS,
    Schema,
    comma_list,
    enum_of,
    object_of,
    optional,
    string,
)
from hookline.ingress.tasks import MAX_AUDIT_TIME_S, MAX_WAIT_S
from hookline.ingress.work import MAX_LEASE_S
from hookline.models import BatchStatus, DeliveryStatus, ReviewResult, TaskStatus
from hookline.submission import MAX_NAME_LENGTH, MAX_UNIQUE_ID_LENGTH


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


_TASK_ID = {"task_id": OBJECT_ID}
_PAGE_PARAMS = {"limit": Param(LIMIT), "next_token": Param(string(1, format="event-cursor"))}
_SINCE_UNTIL = {"since": Param(QUERY_TIME), "until": Param(QUERY_TIME)}

TASK_LIST: dict[str, Param] = {
    "start_time": Param(QUERY_TIME, alias_of="created_after"),
    "end_time": Param(QUERY_TIME, alias_of="created_before"),
    **{
        name: Param(QUERY_TIME)
        for name in (
            "created_after",
            "created_before",
            "updated_after",
            "updated_before",
            "completed_after",
            "completed_before",
        )
    },
    "status": Param(comma_list([s.value for s in TaskStatus]), repeated=True),
    "type": Param(string(1)),
    "project": Param(string(1)),
    "batch": Param(string(1)),
    "customer_review_status": Param(comma_list(sorted(REVIEW_STATUSES)), repeated=True),
    "unique_id": Param(string(1), repeated=True, description="Repeat for any of several."),
    "tags": Param(string(1), repeated=True, description="Repeat for any of several."),
    "limit": Param(LIMIT),
    "next_token": Param(string(1, format="task-cursor")),
    "limited_response": Param(BOOL),
    "include_attachment_url": Param(BOOL),
}
BATCH_LIST: dict[str, Param] = {
    "start_time": Param(QUERY_TIME),
    "end_time": Param(QUERY_TIME),
    "exclude_archived": Param(BOOL),
    "status": Param(enum_of([s.value for s in BatchStatus])),
    "project": Param(string(1)),
    "limit": Param(LIMIT),
    "offset": Param({"type": "integer", "minimum": 0, "maximum": INT64_MAX}),
}
EVENT_LIST: dict[str, Param] = {
    "task_id": Param(string(1)),
    "action": Param(
        comma_list(sorted(trail.EVENT_ACTIONS)),
        repeated=True,
        description="A comma list of actions.",
    ),
    "actor": Param(string(1)),
    "project": Param(string(1)),
    **_SINCE_UNTIL,
    **_PAGE_PARAMS,
}
AUDIT_LIST: dict[str, Param] = {
    "result": Param(comma_list([r.value for r in ReviewResult]), repeated=True),
    "auditor": Param(string(1)),
    "project": Param(string(1)),
    **_SINCE_UNTIL,
    **_PAGE_PARAMS,
}

_WORKER = string(1, 200, pattern=BLANKLESS)
_LEASE_S: Schema = {"type": "number", "minimum": 1, "maximum": MAX_LEASE_S}
_REASON = object_of(reason=optional(string()))
_METADATA = JSON_OBJECT | {"description": "The new metadata (any JSON object); replaces the old."}
_PARAMS = JSON_OBJECT | {"description": "Params merged over the current ones into a new version."}

_CREATE_TASK = (
    JSON_OBJECT
    | object_of(
        callback_url=optional(string(max_length=2048, pattern=HTTP_URL["pattern"] + "|^$")),
        instruction=optional(string()),
        unique_id=optional(string(1, MAX_UNIQUE_ID_LENGTH)),
        tags=optional(TAGS),
        metadata=optional(JSON_OBJECT),
        project=optional(string(1, MAX_NAME_LENGTH)),
        batch=optional(string(1, MAX_NAME_LENGTH)),
        priority=optional({"type": "integer", "minimum": -INT32_MAX - 1, "maximum": INT32_MAX}),
    )
    | {
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": ANY,
        "description": (
            "The task fields below; every other field is a param of the task type "
            "(checked against the type's params schema)."
        ),
    }
)
_AUDIT = object_of(
    accepted=BOOL,
    result=enum_of([r.value for r in ReviewResult]),
    comments=optional(string()),
    audit_time_secs=optional({"type": "number", "minimum": 0, "maximum": MAX_AUDIT_TIME_S}),
    response=ANY,
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
    ("POST", "/v1/task/{key}"): Contract("Task", _CREATE_TASK, path={"key": string(1, 100)}),
    ("GET", "/v1/task/{key}"): Contract(
        "Task",
        params={"wait_s": Param({"type": "number", "minimum": 0, "maximum": MAX_WAIT_S})},
        path={"key": OBJECT_ID},
    ),
    ("GET", "/v1/tasks"): Contract("TaskPage", params=TASK_LIST),
    ("POST", "/v1/task/{task_id}/cancel"): Contract(
        "Task", params={"clear_unique_id": Param(BOOL)}, path=_TASK_ID
    ),
    ("POST", "/v1/task/{task_id}/unique_id"): Contract(
        "Task", object_of(["unique_id"], unique_id=string(1, MAX_UNIQUE_ID_LENGTH)), path=_TASK_ID
    ),
    ("DELETE", "/v1/task/{task_id}/unique_id"): Contract("Task", path=_TASK_ID),
    ("POST", "/v1/task/{task_id}/setMetadata"): Contract("Task", _METADATA, path=_TASK_ID),
    ("POST", "/v1/task/{task_id}/tags"): Contract("Task", TAGS, path=_TASK_ID),
    ("PUT", "/v1/task/{task_id}/tags"): Contract("Task", TAGS, path=_TASK_ID),
    ("DELETE", "/v1/task/{task_id}/tags"): Contract("Task", TAGS, path=_TASK_ID),
    ("POST", "/v1/task/{task_id}/audit"): Contract("Task", _AUDIT, path=_TASK_ID),
    ("POST", "/v1/projects"): Contract(
        "Project",
        object_of(
            ["name", "type"],
            name=NAME,
            type=string(1, 100, pattern=BLANKLESS),
            params=optional(JSON_OBJECT),
        ),
    ),
    ("GET", "/v1/projects"): Contract("ProjectList"),
    ("GET", "/v1/projects/{name}"): Contract("Project", path={"name": NAME}),
    ("POST", "/v1/projects/{name}/setParams"): Contract("Project", _PARAMS, path={"name": NAME}),
    ("POST", "/v1/batches"): Contract(
        "Batch",
        object_of(
            ["name", "project"],
            name=NAME,
            project=NAME,
            callback=optional(
                string(
                    max_length=2048,
                    description="A URL to POST to, or an email address to notify.",
                    pattern=HTTP_URL["pattern"]
                    + r"|^$|^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+\.[A-Za-z]+$",
                )
            ),
            metadata=optional(JSON_OBJECT),
            calibration_batch=optional(BOOL),
            self_label_batch=optional(BOOL),
        ),
    ),
    ("GET", "/v1/batches"): Contract("BatchPage", params=BATCH_LIST),
    ("GET", "/v1/batches/{name}"): Contract("Batch", path={"name": NAME}),
    ("POST", "/v1/batches/{name}/finalize"): Contract("Batch", path={"name": NAME}),
    ("GET", "/v1/batches/{name}/status"): Contract("BatchCounts", path={"name": NAME}),
    ("POST", "/v1/batches/{name}/setMetadata"): Contract("Batch", _METADATA, path={"name": NAME}),
    ("POST", "/v1/files/upload"): Contract("File"),
    ("POST", "/v1/files/import"): Contract("File", object_of(["file_url"], file_url=HTTP_URL)),
    ("GET", "/v1/files/{file_id}"): Contract("FileContent", path={"file_id": OBJECT_ID}),
    ("GET", "/v1/teams"): Contract("Teammates"),
    ("POST", "/v1/work/claim"): Contract(
        "Claim",
        object_of(
            ["worker"],
            worker=_WORKER,
            lease_s=_LEASE_S,
            types=optional({"type": "array", "items": string(1)}),
        ),
    ),
    ("POST", "/v1/task/{task_id}/heartbeat"): Contract(
        "LeasedTask", object_of(["worker"], worker=_WORKER, lease_s=_LEASE_S), path=_TASK_ID
    ),
    ("POST", "/v1/task/{task_id}/complete"): Contract(
        "LeasedTask",
        object_of(
            ["worker", "response"],
            worker=_WORKER,
            response={"allOf": [ANY, {"not": {"type": "null"}}]},
        ),
        path=_TASK_ID,
    ),
    ("POST", "/v1/task/{task_id}/fail"): Contract(
        "LeasedTask",
        object_of(
            ["worker", "error"],
            worker=_WORKER,
            error=string(1, 10_000, pattern=BLANKLESS),
            retry=BOOL,
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
        object_of(
            status=optional(enum_of([DeliveryStatus.FAILED.value, DeliveryStatus.SUCCEEDED.value])),
            since=optional(QUERY_TIME),
            until=optional(QUERY_TIME),
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
