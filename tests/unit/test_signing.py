"""Standard Webhooks signatures, checked by the receivers' own libraries."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import standardwebhooks
import svix.webhooks

from hookline.signing import (
    SECRET_PREFIX,
    active_secrets,
    new_callback_auth_key,
    new_secret,
    signature_header,
    webhook_headers,
)

OLD_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
NEW_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
MSG_ID = "msg_01HZX4Y9Q8R7S6T5V4W3X2Y1Z0"
BODY = b'{"task_id":"t_1","status":"completed","response":{"ok":true},"task":{"id":"t_1"}}'


def standardwebhooks_verify(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """Verify as a receiver using `standardwebhooks` would: raises, or hands back the body."""
    return bool(standardwebhooks.Webhook(secret).verify(body, headers) == json.loads(body))


def svix_verify(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """Verify as a receiver using `svix` would: raises on a bad signature."""
    svix.webhooks.Webhook(secret).verify(body, headers)
    return True


VERIFIERS = [
    pytest.param(standardwebhooks_verify, id="standardwebhooks"),
    pytest.param(svix_verify, id="svix"),
]
VERIFY_ERRORS = (standardwebhooks.WebhookVerificationError, svix.webhooks.WebhookVerificationError)

VerifyFn = Callable[[str, bytes, dict[str, str]], bool]


def now() -> datetime:
    """The current UTC time: the receivers reject timestamps more than 5 minutes off."""
    return datetime.now(UTC)


def counting_bytes(n: int) -> bytes:
    """Deterministic stand-in for os.urandom."""
    return bytes(i % 256 for i in range(n))


@pytest.mark.parametrize("verify", VERIFIERS)
def test_headers_verify_with_receiver_library(verify: VerifyFn) -> None:
    """Headers made for one secret verify with that secret."""
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=now(), body=BODY)

    assert verify(NEW_SECRET, BODY, headers) is True


@pytest.mark.parametrize("verify", VERIFIERS)
def test_tampered_body_fails_verification(verify: VerifyFn) -> None:
    """A body changed after signing does not verify."""
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=now(), body=BODY)
    tampered = BODY.replace(b"completed", b"error")

    with pytest.raises(VERIFY_ERRORS):
        verify(NEW_SECRET, tampered, headers)


@pytest.mark.parametrize("verify", VERIFIERS)
def test_wrong_secret_fails_verification(verify: VerifyFn) -> None:
    """A receiver holding another secret rejects the signature."""
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=now(), body=BODY)

    with pytest.raises(VERIFY_ERRORS):
        verify(OLD_SECRET, BODY, headers)


@pytest.mark.parametrize("verify", VERIFIERS)
def test_changed_message_id_fails_verification(verify: VerifyFn) -> None:
    """The webhook-id is part of the signed content."""
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=now(), body=BODY)
    headers["webhook-id"] = "msg_other"

    with pytest.raises(VERIFY_ERRORS):
        verify(NEW_SECRET, BODY, headers)


@pytest.mark.parametrize("verify", VERIFIERS)
@pytest.mark.parametrize(
    "secret", [pytest.param(NEW_SECRET, id="new"), pytest.param(OLD_SECRET, id="old")]
)
def test_rotation_signs_with_both_secrets(verify: VerifyFn, secret: str) -> None:
    """During a rotation both the new and the old secret verify."""
    headers = webhook_headers([NEW_SECRET, OLD_SECRET], msg_id=MSG_ID, timestamp=now(), body=BODY)

    assert verify(secret, BODY, headers) is True


def test_rotation_header_holds_two_v1_entries() -> None:
    """With two secrets the signature header is two space-separated v1 entries, one per secret."""
    timestamp = now()
    headers = webhook_headers(
        [NEW_SECRET, OLD_SECRET], msg_id=MSG_ID, timestamp=timestamp, body=BODY
    )

    entries = headers["webhook-signature"].split(" ")

    assert len(entries) == 2
    assert all(re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", entry) for entry in entries)
    assert entries[0] != entries[1]
    assert entries == [
        signature_header([NEW_SECRET], msg_id=MSG_ID, timestamp=timestamp, body=BODY),
        signature_header([OLD_SECRET], msg_id=MSG_ID, timestamp=timestamp, body=BODY),
    ]


def test_single_secret_header_is_one_v1_entry() -> None:
    """With one secret the signature header is a single v1 entry."""
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=now(), body=BODY)

    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])


def test_headers_carry_id_timestamp_and_signature() -> None:
    """The three Standard Webhooks headers are present, with the id as given."""
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=now(), body=BODY)

    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == MSG_ID


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        pytest.param(datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC), "1741064767", id="whole-second"),
        pytest.param(
            datetime(2025, 3, 4, 5, 6, 7, 999_999, tzinfo=UTC), "1741064767", id="fraction-dropped"
        ),
        pytest.param(
            datetime(2025, 3, 4, 7, 6, 7, tzinfo=timezone(timedelta(hours=2))),
            "1741064767",
            id="other-offset",
        ),
    ],
)
def test_timestamp_header_is_unix_seconds(timestamp: datetime, expected: str) -> None:
    """webhook-timestamp is the integer unix seconds of the given time."""
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=timestamp, body=BODY)

    assert headers["webhook-timestamp"] == expected


def test_each_attempt_is_signed_at_its_own_time() -> None:
    """A later attempt carries a later timestamp and a different signature."""
    first_at = now()
    first = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=first_at, body=BODY)
    second = webhook_headers(
        [NEW_SECRET], msg_id=MSG_ID, timestamp=first_at + timedelta(seconds=5), body=BODY
    )

    assert int(second["webhook-timestamp"]) == int(first["webhook-timestamp"]) + 5
    assert second["webhook-signature"] != first["webhook-signature"]
    assert second["webhook-id"] == first["webhook-id"]


@pytest.mark.parametrize("verify", VERIFIERS)
def test_headers_signed_at_a_non_utc_time_verify(verify: VerifyFn) -> None:
    """Headers made from an aware time in another zone still verify."""
    timestamp = now().astimezone(timezone(timedelta(hours=2)))
    headers = webhook_headers([NEW_SECRET], msg_id=MSG_ID, timestamp=timestamp, body=BODY)

    assert verify(NEW_SECRET, BODY, headers) is True


def test_new_secret_is_prefixed_base64_of_32_bytes() -> None:
    """A new secret is whsec_ followed by the base64 of 32 random bytes."""
    secret = new_secret(counting_bytes)

    assert secret.startswith(SECRET_PREFIX)
    assert SECRET_PREFIX == "whsec_"
    assert base64.b64decode(secret.removeprefix("whsec_"), validate=True) == bytes(range(32))


def test_new_secret_uses_the_random_source() -> None:
    """Different random bytes give a different secret."""
    assert new_secret(counting_bytes) != new_secret(lambda n: b"\xff" * n)


@pytest.mark.parametrize("verify", VERIFIERS)
def test_new_secret_is_usable_by_receivers(verify: VerifyFn) -> None:
    """A freshly made secret signs headers the receiver libraries accept."""
    secret = new_secret(counting_bytes)
    headers = webhook_headers([secret], msg_id=MSG_ID, timestamp=now(), body=BODY)

    assert verify(secret, BODY, headers) is True


def test_new_callback_auth_key_is_48_hex_chars() -> None:
    """A callback auth key is 48 lowercase hex characters from 24 random bytes."""
    key = new_callback_auth_key(counting_bytes)

    assert re.fullmatch(r"[0-9a-f]{48}", key)
    assert key == bytes(range(24)).hex()


_T = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "previous", "expires_at", "expected"),
    [
        pytest.param("new", None, None, ("new",), id="never-rotated"),
        pytest.param("new", "old", _T + timedelta(seconds=1), ("new", "old"), id="in-grace"),
        pytest.param("new", "old", _T, ("new",), id="grace-ends-exclusive"),
        pytest.param("new", "old", _T - timedelta(days=1), ("new",), id="grace-over"),
        pytest.param("new", "old", None, ("new",), id="previous-without-expiry"),
        pytest.param("new", "", _T + timedelta(days=1), ("new",), id="empty-previous"),
        pytest.param("", "old", _T + timedelta(days=1), ("old",), id="empty-current-dropped"),
    ],
)
def test_active_secrets(
    current: str, previous: str | None, expires_at: datetime | None, expected: tuple[str, ...]
) -> None:
    """The current secret signs; the previous one too until its grace period ends."""
    assert active_secrets(current, previous, expires_at, now=_T) == expected
