"""Domain values as Scale's JSON objects (shared by the API, handlers and callbacks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hookline.models import (
    AccountCredentials,
    Audit,
    AuditRecord,
    Batch,
    Delivery,
    Project,
    StoredFile,
    Task,
    TaskEvent,
    TaskStatus,
    Teammate,
)


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and `Z`, as Scale writes it."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" → "Z"


def audit_json(audit: Audit) -> dict[str, Any]:
    return {
        "audited_by": audit.audited_by,
        "audited_at": timestamp(audit.audited_at),
        "audit_time_secs": audit.audit_time_secs,
        "audit_result": audit.audit_result.value,
        "audit_source": audit.audit_source,
        "comments": audit.comments,
    }


def task_json(task: Task, *, is_test: bool = False, limited: bool = False) -> dict[str, Any]:
    if limited:
        # Scale's limited_response: just enough to track a task.
        return {
            "task_id": task.id,
            "status": task.status.value,
            "metadata": task.metadata,
            "project": task.project,
        }
    out: dict[str, Any] = {
        "task_id": task.id,
        "type": task.type,
        "status": task.status.value,
        "instruction": task.instruction,
        "params": task.params,
        "callback_url": task.callback_url,
        "callback_completed": task.callback_completed,
        "created_at": timestamp(task.created_at),
        "updated_at": timestamp(task.updated_at),
        "completed_at": timestamp(task.completed_at),
        "response": task.response,
        "metadata": task.metadata,
        "audits": [audit_json(a) for a in task.audits],
        "project": task.project,
        "batch": task.batch,
        "customer_review_status": task.customer_review_status,
        "times_redone": task.times_redone,
        "is_test": is_test,
    }
    # Scale leaves these keys out rather than sending null.
    if task.tags is not None:
        out["tags"] = task.tags
    if task.unique_id is not None:
        out["unique_id"] = task.unique_id
    if task.priority is not None:
        out["priority"] = task.priority
    if task.status is TaskStatus.ERROR and task.error is not None:
        out["error"] = task.error
    return out


def project_json(project: Project) -> dict[str, Any]:
    history = [
        {**version.params, "version": version.version, "created_at": timestamp(version.created_at)}
        for version in project.param_history
    ]
    return {
        "type": project.type,
        "name": project.name,
        "param_history": history,
        "params": project.params,
        "created_at": timestamp(project.created_at),
    }


def batch_json(batch: Batch) -> dict[str, Any]:
    return {
        "name": batch.name,
        "project": batch.project,
        "status": batch.status.value,
        "callback": batch.callback,
        "metadata": batch.metadata,
        "calibration_batch": batch.calibration_batch,
        "self_label_batch": batch.self_label_batch,
        "created_at": timestamp(batch.created_at),
        "finalized_at": timestamp(batch.finalized_at),
    }


def file_json(stored: StoredFile, attachment_url: str) -> dict[str, Any]:
    return {
        "id": stored.id,
        "attachment_url": attachment_url,
        "filename": stored.filename,
        "mime_type": stored.content_type,
        "size": stored.size_bytes,
        "sha256": stored.sha256,
        "created_at": timestamp(stored.created_at),
    }


def teammate_json(member: Teammate) -> dict[str, Any]:
    return {"email": member.email, "role": member.role}


def lease_json(task: Task) -> dict[str, Any] | None:
    if task.worker is None:
        return None
    return {
        "worker": task.worker,
        "expires_at": timestamp(task.lease_expires_at),
        "attempt": task.attempts,
    }


def event_json(event: TaskEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "task_id": event.task_id,
        "at": timestamp(event.at),
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "details": event.details,
    }


def audit_record_json(record: AuditRecord) -> dict[str, Any]:
    return {"id": record.id, "task_id": record.task_id, "project": record.project} | audit_json(
        record.audit
    )


def credentials_json(creds: AccountCredentials) -> dict[str, Any]:
    """One environment's callback credentials (`GET /v1/account`)."""
    return {"account": creds.account, "environment": creds.environment.value} | _secrets_json(creds)


def account_credentials_json(found: Sequence[AccountCredentials]) -> dict[str, Any]:
    """Every environment's callback credentials, by environment (`hookline account show`)."""
    return {"account": found[0].account} | {
        creds.environment.value: _secrets_json(creds) for creds in found
    }


def _secrets_json(creds: AccountCredentials) -> dict[str, Any]:
    out: dict[str, Any] = {
        "callback_auth_key": creds.callback_auth_key,
        "webhook_secret": creds.webhook_secret,
    }
    if creds.previous_webhook_secret is not None:
        out["previous_webhook_secret"] = creds.previous_webhook_secret
        out["previous_secret_expires_at"] = timestamp(creds.previous_secret_expires_at)
    return out


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "status": delivery.status.value,
        "url": delivery.url,
        "event": delivery.event,
        "next_attempt_at": timestamp(delivery.next_attempt_at),
        "attempts": [
            {
                "at": timestamp(a.at),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
                "body": a.body,
                "detail": a.detail,
            }
            for a in delivery.attempt_log
        ],
        "created_at": timestamp(delivery.created_at),
    }
