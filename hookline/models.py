"""Domain values shared by every role: plain frozen dataclasses and enums."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

JSON = Any
"""A value that came from or goes to JSON."""


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    CANCELED = "canceled"
    ERROR = "error"


class Environment(enum.StrEnum):
    """Scale's two environments: keys, tasks, projects and batches live in one."""

    LIVE = "live"
    TEST = "test"


class Scope(enum.StrEnum):
    SUBMIT = "submit"
    WORK = "work"
    AUDIT = "audit"
    ADMIN = "admin"


ALL_SCOPES = frozenset(Scope)
TEST_KEY_SCOPES = frozenset({Scope.SUBMIT, Scope.WORK, Scope.AUDIT})
"""What a new test key may do unless told otherwise: everything but admin."""


class BatchStatus(enum.StrEnum):
    STAGING = "staging"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ReviewResult(enum.StrEnum):
    ACCEPTED = "accepted"
    FIXED = "fixed"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: an authenticated API key, reduced to what decisions need."""

    key_id: str
    account_id: int
    account_name: str
    environment: Environment
    scopes: frozenset[Scope]
    email: str

    def has_scope(self, scope: Scope) -> bool:
        """Whether this key may act where `scope` is needed: the admin scope grants every one."""
        return scope in self.scopes or Scope.ADMIN in self.scopes


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountCredentials:
    """What a callback receiver needs to trust hookline's callbacks, per environment."""

    account: str
    environment: Environment
    callback_auth_key: str
    webhook_secret: str
    previous_webhook_secret: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    id: str
    account_name: str
    environment: Environment
    scopes: frozenset[Scope]
    email: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Audit:
    audited_by: str
    audited_at: datetime
    audit_time_secs: float | None
    audit_result: ReviewResult
    audit_source: str
    comments: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEvent:
    """One line of the audit trail: who did what to a task, when."""

    id: int
    task_id: str
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    details: dict[str, JSON] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """A review with the task it belongs to, as `GET /v1/audits` lists it."""

    id: int
    task_id: str
    project: str | None
    audit: Audit


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFilter:
    task_id: str | None = None
    actions: tuple[str, ...] = ()
    actor: str | None = None
    project: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilter:
    results: tuple[str, ...] = ()
    auditor: str | None = None
    project: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    id: str
    type: str
    status: TaskStatus
    instruction: str | None
    params: dict[str, JSON]
    response: JSON | None
    error: str | None
    metadata: dict[str, JSON]
    tags: list[str] | None
    unique_id: str | None
    project: str | None
    batch: str | None
    callback_url: str | None
    callback_completed: bool
    times_redone: int
    priority: int | None
    customer_review_status: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    audits: tuple[Audit, ...] = ()
    attempts: int = 0
    worker: str | None = None
    """Who holds the lease (column lease_owner), or None."""
    lease_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTask:
    """A validated create request, ready to be stored."""

    type: str
    instruction: str | None
    params: dict[str, JSON]
    metadata: dict[str, JSON]
    tags: list[str] | None
    unique_id: str | None
    project: str | None
    batch: str | None
    callback_url: str | None
    priority: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamVersion:
    version: int
    created_at: datetime
    params: dict[str, JSON]


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    name: str
    type: str
    params: dict[str, JSON]
    param_history: tuple[ParamVersion, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    name: str
    project: str
    status: BatchStatus
    callback: str | None
    metadata: dict[str, JSON]
    calibration_batch: bool
    self_label_batch: bool
    created_at: datetime
    finalized_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFile:
    id: str
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    source_url: str | None
    storage_path: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Teammate:
    email: str
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFilter:
    """What `GET /v1/tasks` asks for; every field narrows the result."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    completed_after: datetime | None = None
    completed_before: datetime | None = None
    statuses: tuple[TaskStatus, ...] = ()
    type: str | None = None
    project: str | None = None
    batch: str | None = None
    review_statuses: tuple[str, ...] = ()
    unique_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskPage:
    docs: list[Task]
    total: int
    has_more: bool
    last_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Completed:
    """A handler's answer: the task's response."""

    response: JSON


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """A handler gave up on this attempt; `retryable` failures may be tried again."""

    error: str
    retryable: bool = False


Outcome = Completed | Failed


class SettleKind(enum.StrEnum):
    """How a handler's attempt settles. The values appear in logs (`outcome=`)."""

    COMPLETE = "complete"
    FAIL = "fail"
    TRY_LATER = "retry"
    """The attempt failed and the task is due again at `retry_at` (not `Action.RETRY`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """What the dispatcher decided for one claimed task."""

    task_id: str
    kind: SettleKind
    response: JSON | None = None
    error: str | None = None
    retry_at: datetime | None = None


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float
    body: str | None
    detail: str | None = None
    """For an attempt that got no answer: what went wrong (a blocked one: why, and what to set)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    id: str
    task_id: str | None
    batch: str | None
    event: str
    url: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    attempt_log: tuple[DeliveryAttempt, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDelivery:
    """A claimed delivery with what it takes to send it."""

    id: str
    url: str
    host: str
    payload: JSON
    attempts: int
    callback_auth_key: str
    secrets: tuple[str, ...]
