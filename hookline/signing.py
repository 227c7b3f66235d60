"""Standard Webhooks signatures (https://www.standardwebhooks.com/), via `standardwebhooks`.

A receiver verifies with `standardwebhooks.Webhook(secret).verify(body, headers)`
or `svix.webhooks.Webhook(secret).verify(...)`. During a rotation's grace
period both the new and the old secret sign, space-separated, as the spec allows.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def new_secret(random_bytes: Callable[[int], bytes]) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes(32)).decode()


def new_callback_auth_key(random_bytes: Callable[[int], bytes]) -> str:
    return random_bytes(24).hex()


def active_secrets(
    current: str | None,
    previous: str | None,
    previous_expires_at: datetime | None,
    *,
    now: datetime,
) -> tuple[str, ...]:
    """The secrets that sign at `now`: the current one, and the previous one until its grace
    period ends (exclusive)."""
    secrets = [current]
    if previous and previous_expires_at is not None and previous_expires_at > now:
        secrets.append(previous)
    return tuple(s for s in secrets if s)


def signature_header(
    secrets: Sequence[str], *, msg_id: str, timestamp: datetime, body: bytes
) -> str:
    """The `webhook-signature` value: one `v1,<base64>` per secret, space-separated."""
    payload = body.decode()
    # The library reads the time as UTC whatever its zone, so hand it UTC.
    at = timestamp.astimezone(UTC)
    return " ".join(_signer(secret).sign(msg_id, at, payload) for secret in secrets)


@functools.lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    """A secret's signer, made once: `Webhook` decodes the secret when it is made (an
    account has one or two secrets, and signs every attempt of its callbacks)."""
    return Webhook(secret)


def webhook_headers(
    secrets: Sequence[str], *, msg_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(
            secrets, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
