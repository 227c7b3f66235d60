"""What each v1 endpoint answers, as JSON Schemas: the document's components/schemas.

`Contract.answer` names one of these; the OpenAPI document publishes them and the
API tests check real answers against them (`validation.validator_for`).
"""

from __future__ import annotations

from hookline.ingress.schema_parts import (
    ANY,
    BOOL,
    JSON_OBJECT,
    JSON_VALUE,
    NULLABLE_TIME,
    OBJECT_ID,
    TIME,
    Schema,
    enum_of,
    nullable,
    object_of,
    string,
)
from hookline.models import BatchStatus, DeliveryStatus, ReviewResult, TaskStatus

_STR_OR_NULL = {"type": ["string", "null"]}
_AUDIT_ANSWER = object_of(
    ["audited_by", "audited_at", "audit_time_secs", "audit_result", "audit_source", "comments"],
    audited_by=_STR_OR_NULL,
    audited_at=NULLABLE_TIME,
    audit_time_secs={"type": ["number", "null"]},
    audit_result=enum_of([r.value for r in ReviewResult]),
    audit_source=_STR_OR_NULL,
    comments=_STR_OR_NULL,
)
_TASK_PROPERTIES: dict[str, Schema] = {
    "task_id": OBJECT_ID,
    "type": string(),
    "status": enum_of([s.value for s in TaskStatus]),
    "instruction": _STR_OR_NULL,
    "params": JSON_OBJECT,
    "callback_url": _STR_OR_NULL,
    "callback_completed": BOOL,
    "created_at": TIME,
    "updated_at": TIME,
    "completed_at": NULLABLE_TIME,
    "response": ANY,
    "metadata": JSON_OBJECT,
    "audits": {"type": "array", "items": _AUDIT_ANSWER},
    "project": _STR_OR_NULL,
    "batch": _STR_OR_NULL,
    "customer_review_status": _STR_OR_NULL,
    "times_redone": {"type": "integer"},
    "is_test": BOOL,
    "tags": {"type": "array", "items": string()},
    "unique_id": string(),
    "priority": {"type": "integer"},
    "error": ANY,
}
_TASK = {
    "type": "object",
    "required": [
        k for k in _TASK_PROPERTIES if k not in ("tags", "unique_id", "priority", "error")
    ],
    "properties": _TASK_PROPERTIES,
}
_LIMITED_TASK = object_of(
    ["task_id", "status", "metadata", "project"],
    task_id=OBJECT_ID,
    status=enum_of([s.value for s in TaskStatus]),
    metadata=JSON_OBJECT,
    project=_STR_OR_NULL,
)
_LEASE = nullable(
    object_of(
        ["worker", "expires_at", "attempt"],
        worker=string(),
        expires_at=NULLABLE_TIME,
        attempt={"type": "integer"},
    )
)
_LEASED_TASK = _TASK | {
    "required": [*_TASK["required"], "lease"],
    "properties": _TASK_PROPERTIES | {"lease": _LEASE},
}
_PROJECT = object_of(
    ["type", "name", "param_history", "params", "created_at"],
    type=string(),
    name=string(),
    param_history={"type": "array", "items": JSON_OBJECT},
    params=JSON_OBJECT,
    created_at=TIME,
)
_BATCH = object_of(
    ["name", "project", "status", "callback", "metadata", "created_at", "finalized_at"],
    name=string(),
    project=string(),
    status=enum_of([s.value for s in BatchStatus]),
    callback=_STR_OR_NULL,
    metadata=JSON_OBJECT,
    calibration_batch=BOOL,
    self_label_batch=BOOL,
    created_at=TIME,
    finalized_at=NULLABLE_TIME,
)
_EVENT = object_of(
    ["id", "task_id", "at", "actor", "action", "from_status", "to_status", "reason", "details"],
    id={"type": "integer"},
    task_id=string(),
    at=TIME,
    actor=string(),
    action=string(),
    from_status=_STR_OR_NULL,
    to_status=_STR_OR_NULL,
    reason=_STR_OR_NULL,
    details={"type": ["object", "null"]},
)
_AUDIT_RECORD = _AUDIT_ANSWER | {
    "required": ["id", "task_id", "project", *_AUDIT_ANSWER["required"]],
    "properties": _AUDIT_ANSWER["properties"]
    | {"id": {"type": "integer"}, "task_id": string(), "project": _STR_OR_NULL},
}
_DELIVERY = object_of(
    ["id", "status", "url", "event", "next_attempt_at", "attempts", "created_at"],
    id=string(),
    status=enum_of([s.value for s in DeliveryStatus]),
    url=string(),
    event=string(),
    next_attempt_at=NULLABLE_TIME,
    attempts={
        "type": "array",
        "items": object_of(
            ["at"],
            at=TIME,
            status_code={"type": ["integer", "null"]},
            error=_STR_OR_NULL,
            duration_ms={"type": ["number", "null"]},
            body=_STR_OR_NULL,
        ),
    },
    created_at=TIME,
)


def _page(item: Schema, *, token: bool = True) -> Schema:
    page = object_of(["docs", "has_more"], docs={"type": "array", "items": item}, has_more=BOOL)
    if token:
        page["required"].append("next_token")
        page["properties"]["next_token"] = _STR_OR_NULL
    return page


ANSWERS: dict[str, Schema] = {
    "JSONValue": JSON_VALUE,
    "Error": object_of(["status_code", "error"], status_code={"type": "integer"}, error=string(1)),
    "Task": _TASK,
    "LeasedTask": _LEASED_TASK,
    "Claim": object_of(["task"], task=_LEASED_TASK | {"type": ["object", "null"]}),
    "TaskPage": _page({"anyOf": [_TASK, _LIMITED_TASK]})
    | {
        "required": ["docs", "total", "limit", "offset", "has_more", "next_token"],
    },
    "Project": _PROJECT,
    "ProjectList": {"type": "array", "items": _PROJECT},
    "Batch": _BATCH,
    "BatchPage": _page(_BATCH, token=False),
    "BatchCounts": object_of(["status"], status=enum_of([s.value for s in BatchStatus]))
    | {"additionalProperties": {"type": "integer"}},
    "File": object_of(
        ["id", "attachment_url", "filename", "mime_type", "size", "sha256", "created_at"],
        id=OBJECT_ID,
        attachment_url=string(1),
        filename=_STR_OR_NULL,
        mime_type=_STR_OR_NULL,
        size={"type": ["integer", "null"]},
        sha256=_STR_OR_NULL,
        created_at=TIME,
    ),
    "FileContent": {"type": "string", "format": "binary"},
    "Teammates": {
        "type": "array",
        "items": object_of(["email", "role"], email=string(), role=string()),
    },
    "EventPage": _page(_EVENT),
    "AuditPage": _page(_AUDIT_RECORD),
    "Credentials": object_of(
        ["account", "callback_auth_key", "webhook_secret"],
        account=string(),
        callback_auth_key=string(),
        webhook_secret=string(),
        previous_webhook_secret=string(),
        previous_secret_expires_at=NULLABLE_TIME,
    ),
    "Deliveries": object_of(["deliveries"], deliveries={"type": "array", "items": _DELIVERY}),
    "Replayed": object_of(["replayed"], replayed={"type": "integer", "minimum": 0}),
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
