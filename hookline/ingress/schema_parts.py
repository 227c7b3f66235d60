"""The building blocks of the endpoints' JSON Schemas: strings without NUL, objects, times.

Shared by the request contracts (`contract.py`) and the answers (`answers.py`); the
checks that read them live in `validation.py`. Pure: no I/O, no starlette.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hookline.ingress.query import MAX_LIMIT
from hookline.submission import MAX_NAME_LENGTH

Schema = dict[str, Any]


NO_NUL = r"^[^\u0000]*$"
"""No string may hold NUL: PostgreSQL cannot store it, so no backend takes it."""


def string(min_length: int = 0, max_length: int | None = None, **more: Any) -> Schema:
    schema: Schema = (
        {"type": "string"} if "format" in more else {"type": "string", "pattern": NO_NUL}
    )
    if min_length:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema | more


def nullable(schema: Schema) -> Schema:
    return schema | {"type": [schema["type"], "null"]}


def optional(schema: Schema) -> Schema:
    """An optional field the handler also takes as null, meaning absent (as clients send it)."""
    if "enum" in schema:
        return schema | {"type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    return nullable(schema)


def object_of(required: Sequence[str] = (), **properties: Schema) -> Schema:
    """An object with these `properties`; any other field is JSON without NUL, and ignored."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/JSONValue"},
    }
    if required:
        schema["required"] = list(required)
    return schema


def enum_of(values: Sequence[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


def comma_list(values: Sequence[str]) -> Schema:
    """A comma-separated list of `values` (spaces around items allowed)."""
    item = "(" + "|".join(re.escape(v) for v in sorted(values)) + ")"
    return string(
        1,
        pattern=rf"^ *{item} *(, *{item} *)*$",
        description=f"A comma list of {', '.join(sorted(values))}",
    )


SPACE = r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""The characters Python's `str.isspace` (and so `str.strip`) calls space, spelled out
for a regex character class: `\\s` means less in ECMA-262 patterns (JSON Schema's, a
client's) than in Python's (the server's), e.g. not U+0085."""
BLANKLESS = rf"^[^\u0000]*[^{SPACE}\u0000][^\u0000]*$"
"""A required text field: at least one non-space character."""
ANY: Schema = {"$ref": "#/components/schemas/JSONValue"}
JSON_OBJECT: Schema = {
    "type": "object",
    "propertyNames": {"pattern": NO_NUL},
    "additionalProperties": ANY,
}
JSON_VALUE: Schema = {
    "description": "Any JSON value without NUL in its strings",
    "anyOf": [
        {"type": ["null", "boolean", "number"]},
        {"type": "string", "pattern": NO_NUL},
        {"type": "array", "items": ANY},
        JSON_OBJECT,
    ],
}
TIME = string(format="date-time")
NULLABLE_TIME = nullable(TIME)
HTTP_URL = string(
    1,
    2048,
    pattern=rf"^https?://[A-Za-z0-9._~-]+(:[0-9]{{1,5}})?([/?#][^{SPACE}\x00-\x1f\x7f-\x9f]*)?$",
)
"""What `check_callback_url` accepts, narrowed to what is easy to state: http(s) and a host."""
NAME = string(1, MAX_NAME_LENGTH, pattern=BLANKLESS)
_TAG = string(1, 200)
TAGS: Schema = {"type": "array", "items": _TAG}
"""A tag list; the document adds limits.max_tags as its maxItems."""
OBJECT_ID = string(pattern=r"^[0-9a-f]{24}$")
TIME_PATTERN = (
    r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$"
)
"""The dates and times a fuzzer should generate; the server reads any `fromisoformat` reads."""
QUERY_TIME = string(
    pattern=TIME_PATTERN,
    description=(
        "A date (YYYY-MM-DD) or time ('YYYY-MM-DD HH:MM:SS.ffffff' or ISO 8601); "
        "no offset means UTC"
    ),
)
LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
BOOL: Schema = {"type": "boolean"}
ANSWER_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
"""The `date-time` format: Scale's `2024-01-02T03:04:05.678Z`, as answers carry it."""
