"""Pure parts of `hookline submit`: a JSONL line into a task body, the outcome, the summary.

A line without a `unique_id` gets one derived from its content, so that running
the same file again creates nothing new: `line-` followed by the SHA-256 (hex)
of the task type, a newline, and the line's canonical JSON (keys sorted, no
spaces, UTF-8). It is computed from the line as written, before defaults such
as `--callback-url` are added, so changing a default does not change the id.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

DERIVED_PREFIX = "line-"


class Kind(enum.StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    FAILED = "failed"
    """Not refused, but not created either: the server kept failing or could not be reached."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One task to create: its line number (from 1), its body and where its unique_id came from."""

    number: int
    body: dict[str, Any]
    derived: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    number: int
    kind: Kind
    message: str | None = None
    task_id: str | None = None


def canonical_json(value: Any) -> bytes:
    """Keys sorted, no spaces, UTF-8: the same bytes for the same JSON value."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def derived_unique_id(task_type: str, body: dict[str, Any]) -> str:
    """The unique_id of a line that has none (see the module docstring)."""
    digest = hashlib.sha256(task_type.encode() + b"\n" + canonical_json(body)).hexdigest()
    return DERIVED_PREFIX + digest


def parse_line(
    number: int, raw: bytes, *, task_type: str, callback_url: str | None = None
) -> Line | Outcome | None:
    """The task body of line `number`; an INVALID outcome if it is not a JSON object;
    None for a blank line."""
    if not raw.strip():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        message = f"not JSON: {exc.msg} at column {exc.colno}"
        return Outcome(number=number, kind=Kind.INVALID, message=message)
    if not isinstance(value, dict):
        shown = type(value).__name__ if value is not None else "null"
        return Outcome(number=number, kind=Kind.INVALID, message=f"not a JSON object: {shown}")
    body = dict(value)
    derived = body.get("unique_id") is None
    if derived:
        body["unique_id"] = derived_unique_id(task_type, value)
    if callback_url is not None and body.get("callback_url") is None:
        body["callback_url"] = callback_url
    return Line(number=number, body=body, derived=derived)


def outcome_of(number: int, status: int, body: Any) -> Outcome:
    """What the server's answer to line `number`'s create means."""
    if status == 200 and isinstance(body, dict):
        task_id = body.get("task_id")
        return Outcome(
            number=number, kind=Kind.CREATED, task_id=task_id if isinstance(task_id, str) else None
        )
    message = _message(status, body)
    if status == 409:
        return Outcome(number=number, kind=Kind.DUPLICATE, message=message)
    kind = Kind.INVALID if 400 <= status < 500 else Kind.FAILED
    return Outcome(number=number, kind=kind, message=f"{status}: {message}")


def _message(status: int, body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    if isinstance(body, str) and body:
        return body[:200]
    return f"HTTP {status}"


@dataclass(slots=True)
class Summary:
    """How the lines of one run ended. `problems` keeps each invalid or failed line."""

    counts: dict[Kind, int] = field(default_factory=lambda: dict.fromkeys(Kind, 0))
    problems: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.kind] += 1
        if outcome.kind in (Kind.INVALID, Kind.FAILED):
            self.problems.append(outcome)

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    @property
    def ok(self) -> bool:
        """True when every line was created or already there."""
        return not self.problems

    def counts_text(self) -> str:
        """`created 3, duplicate 1, invalid 2` (failed only when some did)."""
        shown = [k for k in Kind if k is not Kind.FAILED or self.counts[k]]
        return ", ".join(f"{k.value} {self.counts[k]}" for k in shown)

    def report(self) -> list[str]:
        """The lines printed at the end: the counts, then each problem by line number."""
        problems = sorted(self.problems, key=lambda o: o.number)
        return [self.counts_text()] + [
            f"line {o.number}: {o.kind.value}: {o.message}" for o in problems
        ]

    def as_json(self) -> dict[str, Any]:
        return {k.value: self.counts[k] for k in Kind} | {
            "problems": [
                {"line": o.number, "kind": o.kind.value, "message": o.message}
                for o in sorted(self.problems, key=lambda o: o.number)
            ]
        }
