"""Identifiers and API keys. Pure: time and randomness are passed in."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hookline.models import Environment

RandomBytes = Callable[[int], bytes]

KEY_ID_HEX = 12
KEY_SECRET_HEX = 32


def new_object_id(now: datetime, random_bytes: RandomBytes) -> str:
    """A 24-hex id that sorts by creation time: 6 bytes of Unix milliseconds, 6 random."""
    millis = int(now.timestamp() * 1000)
    return millis.to_bytes(6, "big").hex() + random_bytes(6).hex()


class ObjectIds:
    """`new_object_id`, increasing within one process: an id made in the same millisecond as
    the last (or after the clock stepped back) follows it, so ids sort in the order they
    were made and "oldest first" holds for tasks created together. (Ids of different
    processes made in one millisecond are ordered at random, as `new_object_id`'s are.)"""

    def __init__(self, random_bytes: RandomBytes) -> None:
        self._random_bytes = random_bytes
        self._last = 0
        self._lock = threading.Lock()  # ids are made on the event loop and SQLite's writer

    def __call__(self, now: datetime) -> str:
        made = int(new_object_id(now, self._random_bytes), 16)
        with self._lock:
            made = max(made, self._last + 1)
            self._last = made
        return f"{made:024x}"


def is_object_id(value: str) -> bool:
    return len(value) == 24 and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True, slots=True)
class ParsedKey:
    environment: Environment
    key_id: str


def new_api_key(environment: Environment, random_bytes: RandomBytes) -> tuple[str, str]:
    """A new key `live_<id><secret>` and its public id; only the key's hash is stored."""
    body = random_bytes((KEY_ID_HEX + KEY_SECRET_HEX) // 2).hex()
    return f"{environment.value}_{body}", body[:KEY_ID_HEX]


def parse_api_key(key: str) -> ParsedKey | None:
    """The environment and public id of a well-formed key, or None."""
    prefix, sep, body = key.partition("_")
    if not sep or prefix not in ("live", "test") or len(body) != KEY_ID_HEX + KEY_SECRET_HEX:
        return None
    if any(c not in "0123456789abcdef" for c in body):
        return None
    return ParsedKey(Environment(prefix), body[:KEY_ID_HEX])


def hash_api_key(key: str) -> str:
    # Keys carry 176 random bits, so a fast hash is enough; no salt or KDF needed.
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Compare in constant time."""
    return hmac.compare_digest(hash_api_key(key), stored_hash)
