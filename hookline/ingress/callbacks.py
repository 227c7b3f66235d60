"""Callback extensions: the account's credentials, a task's deliveries, resend and replay."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hookline.errors import Invalid
from hookline.ingress.http import path_param, read_object
from hookline.ingress.query import parse_time
from hookline.ingress.services import services
from hookline.models import DeliveryStatus, Principal
from hookline.serialize import credentials_json, delivery_json
from hookline.submission import optional_str


async def show_account(request: Request, who: Principal) -> dict[str, Any]:
    """`{account, environment, callback_auth_key, webhook_secret}` of the calling key's
    environment: what a receiver needs to verify that environment's callbacks."""
    creds = await services(request).store.accounts.credentials(who.account_id, who.environment)
    return credentials_json(creds)


async def rotate_webhook_secret(request: Request, who: Principal) -> dict[str, Any]:
    """A new secret signs the calling key's environment's callbacks from now on; the old
    one also signs for callbacks.secret_grace_s."""
    svc = services(request)
    creds = await svc.store.accounts.rotate_webhook_secret(
        who.account_id, who.environment, grace_s=svc.settings.callbacks.secret_grace_s
    )
    return credentials_json(creds)


async def task_callbacks(request: Request, who: Principal) -> dict[str, Any]:
    found = await services(request).store.deliveries.for_task(who, path_param(request, "task_id"))
    return {"deliveries": [delivery_json(d) for d in found]}


async def resend(request: Request, who: Principal) -> dict[str, Any]:
    found = await services(request).store.deliveries.resend(who, path_param(request, "task_id"))
    return {"deliveries": [delivery_json(d) for d in found]}


async def replay(request: Request, who: Principal) -> dict[str, Any]:
    """Re-queue the account's deliveries in a status (default failed) in a time window."""
    body = await read_object(request, required=False)
    raw = optional_str(body, "status") or DeliveryStatus.FAILED.value
    if raw not in (DeliveryStatus.FAILED.value, DeliveryStatus.SUCCEEDED.value):
        raise Invalid("Field 'status' must be failed or succeeded")
    since, until = optional_str(body, "since"), optional_str(body, "until")
    count = await services(request).store.deliveries.replay(
        who,
        status=DeliveryStatus(raw),
        since=parse_time("since", since) if since else None,
        until=parse_time("until", until) if until else None,
    )
    return {"replayed": count}
