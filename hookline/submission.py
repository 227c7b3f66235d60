"""Turn a create-task body into a `NewTask`: Scale's field rules, no I/O.

Scale's create payloads are flat: the task fields below sit next to the
type's own fields, which come back nested under `params`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import orjson

from hookline.errors import Invalid
from hookline.guard import numeric_host_refusal
from hookline.models import JSON, NewTask, Project

TASK_FIELDS = frozenset(
    {"callback_url", "instruction", "unique_id", "tags", "metadata", "project", "batch", "priority"}
)
MAX_UNIQUE_ID_LENGTH = 500
MAX_NAME_LENGTH = 500
# `priority` is an `integer` column on PostgreSQL; the same range on SQLite keeps both alike.
MIN_PRIORITY = -(2**31)
MAX_PRIORITY = 2**31 - 1


def optional_str(body: Mapping[str, Any], key: str, *, max_length: int | None = None) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"Field {key!r} must be a string, got {type_name(value)}")
    if max_length is not None and len(value) > max_length:
        raise Invalid(f"Field {key!r} is longer than {max_length} characters")
    return value


def required_str(body: Mapping[str, Any], key: str, *, max_length: int | None = None) -> str:
    value = optional_str(body, key, max_length=max_length)
    if value is None or not value.strip():
        raise Invalid(f"Missing required field {key!r}")
    return value


def optional_object(body: Mapping[str, Any], key: str) -> dict[str, JSON] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Invalid(f"Field {key!r} must be a JSON object, got {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def check_callback_url(value: str | None, key: str = "callback_url") -> str | None:
    """Only absolute http(s) URLs with a host, without whitespace or control characters.

    The URL is stored as given, so it must be the one sent: URL parsers drop
    tabs and newlines silently. A host that is a number other than a dotted
    quad (`2130706433`, `127.1`) is refused, as the callback guard refuses it.
    """
    if value is None or value == "":
        return None
    return _checked_url(value, key)


@functools.lru_cache(maxsize=256)
def _checked_url(value: str, key: str) -> str:
    """`check_callback_url` of a non-empty value; the URLs that pass are kept (a
    submitter sends the same few again and again)."""
    if len(value) > 2048:
        raise Invalid(f"Field {key!r} is longer than 2048 characters")
    bad = next((c for c in value if c.isspace() or unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise Invalid(
            f"Field {key!r} must not contain whitespace or control characters "
            f"(found {bad!r}); percent-encode them, e.g. a space as %20"
        )
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is no number in range
    except ValueError as exc:
        raise Invalid(f"Field {key!r} is not a valid URL: {value!r}") from exc
    if parts.scheme not in ("http", "https") or not hostname:
        raise Invalid(f"Field {key!r} must be an absolute http:// or https:// URL, got {value!r}")
    try:
        ascii_host = url_host(value)
    except UnicodeError as exc:
        raise Invalid(f"Field {key!r} has a host that is not a valid name: {hostname!r}") from exc
    if not _valid_host(ascii_host):
        raise Invalid(f"Field {key!r} has a host that is not a valid name or address: {hostname!r}")
    numeric = numeric_host_refusal(ascii_host)
    if numeric is not None:
        raise Invalid(f"Field {key!r} is refused: {numeric}")
    return value


_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


def _valid_host(host: str) -> bool:
    """A DNS name (letters, digits, `-`, `_`, dots) or an IPv6 literal (`[::1]` unbracketed)."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return _HOST_NAME.fullmatch(host) is not None


def url_host(url: str) -> str:
    """The host of `url` as a client sends it: lower case, IDNA-encoded, without brackets.

    Raises:
        ValueError: the URL cannot be parsed (UnicodeError: the host is no valid name).
    """
    hostname = urlsplit(url).hostname or ""
    return hostname if hostname.isascii() else hostname.encode("idna").decode("ascii")


def check_tags(value: Any, *, max_tags: int, key: str = "tags") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise Invalid(f"Field {key!r} must be an array of strings")
    tags = list(dict.fromkeys(value))
    if len(tags) > max_tags:
        raise Invalid(f"A task can have at most {max_tags} tags; got {len(tags)}")
    if any(not t or len(t) > 200 for t in tags):
        raise Invalid("Tags must be 1 to 200 characters long")
    return tags


def check_metadata(value: dict[str, JSON], *, max_bytes: int) -> dict[str, JSON]:
    """`value` unchanged, unless its JSON is longer than `max_bytes` (limits.max_metadata_bytes)."""
    size = len(orjson.dumps(value))
    if size > max_bytes:
        raise Invalid(
            f"The metadata is {size} bytes as JSON; at most {max_bytes} are allowed "
            "(setting limits.max_metadata_bytes, HOOKLINE_LIMITS_MAX_METADATA_BYTES)"
        )
    return value


def check_priority(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("Field 'priority' must be an integer")
    if not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise Invalid(f"Field 'priority' must be between {MIN_PRIORITY} and {MAX_PRIORITY}")
    return value


def check_unique_id(value: Any, key: str = "unique_id") -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"Field {key!r} must be a non-empty string")
    if len(value) > MAX_UNIQUE_ID_LENGTH:
        raise Invalid(f"Field {key!r} is longer than {MAX_UNIQUE_ID_LENGTH} characters")
    return value


def parse_new_task(task_type: str, body: Any, *, max_tags: int, max_metadata_bytes: int) -> NewTask:
    """Split a create body into task fields and params, checking every task field."""
    if not isinstance(body, dict):
        raise Invalid(f"The request body must be a JSON object, got {type_name(body)}")
    if not task_type or len(task_type) > 100:
        raise Invalid("The task type in the URL must be 1 to 100 characters")
    unique_id = body.get("unique_id")
    priority = check_priority(body.get("priority"))
    tags = body.get("tags")
    return NewTask(
        type=task_type,
        instruction=optional_str(body, "instruction"),
        params={k: v for k, v in body.items() if k not in TASK_FIELDS},
        metadata=check_metadata(
            optional_object(body, "metadata") or {}, max_bytes=max_metadata_bytes
        ),
        tags=None if tags is None else check_tags(tags, max_tags=max_tags),
        unique_id=None if unique_id is None else check_unique_id(unique_id),
        project=optional_str(body, "project", max_length=MAX_NAME_LENGTH),
        batch=optional_str(body, "batch", max_length=MAX_NAME_LENGTH),
        callback_url=check_callback_url(optional_str(body, "callback_url")),
        priority=priority,
    )


def with_project(new: NewTask, project: Project | None, batch_project: str | None) -> NewTask:
    """Fill what the task leaves out from its project's current params, as Scale does.

    Raises:
        Invalid: the task names a project other than its batch's, or a project of another type.
    """
    if batch_project is not None and new.project not in (None, batch_project):
        raise Invalid(
            f'Batch "{new.batch}" belongs to project "{batch_project}", not "{new.project}"'
        )
    if project is None:
        return new
    if project.type != new.type:
        raise Invalid(f'Project "{project.name}" is for {project.type} tasks, not {new.type}')
    defaults = dict(project.params)
    instruction = defaults.pop("instruction", None)
    return replace(
        new,
        project=project.name,
        instruction=new.instruction if new.instruction is not None else instruction,
        params={**defaults, **new.params},
    )
