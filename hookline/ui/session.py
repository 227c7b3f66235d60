"""Dashboard sessions and CSRF tokens. Pure: time and randomness are passed in.

A session cookie holds `key_id.expires.nonce.mac`, never the key. The MAC is
an HMAC-SHA256 whose key is derived from the API key's stored hash, which
never leaves the server: so no server-wide secret has to be kept, a cookie
cannot be forged or extended without the database, and a revoked (or
deleted) key signs its sessions out at once, because every request looks the
key up again by its id. The CSRF token of a session is a second HMAC of its
nonce; the login form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

SESSION_COOKIE = "hookline_session"
LOGIN_CSRF_COOKIE = "hookline_login_csrf"
SESSION_S = 8 * 3600
"""How long a sign-in lasts."""
_COOKIE = re.compile(r"([0-9a-f]{1,32})\.([0-9]{1,12})\.([0-9a-f]{32})\.([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class Session:
    """What a session cookie claims; `verify` says whether the server signed it."""

    key_id: str
    expires_s: int
    nonce: str
    mac: str

    @property
    def payload(self) -> bytes:
        return f"{self.key_id}.{self.expires_s}.{self.nonce}".encode()


def _signing_key(key_hash: str) -> bytes:
    return hmac.new(key_hash.encode(), b"hookline ui session v1", hashlib.sha256).digest()


def issue(key_id: str, key_hash: str, *, now_s: float, random_bytes: bytes) -> str:
    """A new session cookie value for the key; `random_bytes` (16) make its nonce."""
    if len(random_bytes) != 16:
        raise ValueError("a session nonce needs 16 random bytes")
    claimed = Session(key_id, int(now_s) + SESSION_S, random_bytes.hex(), "")
    mac = hmac.new(_signing_key(key_hash), claimed.payload, hashlib.sha256).hexdigest()
    return f"{claimed.payload.decode()}.{mac}"


def parse(value: str | None) -> Session | None:
    """The claims of a cookie value that has a session's shape, else None (not verified)."""
    if not value:
        return None
    found = _COOKIE.fullmatch(value)
    if found is None:
        return None
    key_id, expires, nonce, mac = found.groups()
    return Session(key_id, int(expires), nonce, mac)


def verify(session: Session, key_hash: str, *, now_s: float) -> bool:
    """Whether the server signed this session for the key and it has not expired."""
    expected = hmac.new(_signing_key(key_hash), session.payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, session.mac) and now_s < session.expires_s


def csrf_token(session: Session, key_hash: str) -> str:
    """The token every POST form of this session carries."""
    message = b"csrf." + session.nonce.encode()
    return hmac.new(_signing_key(key_hash), message, hashlib.sha256).hexdigest()


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing or empty token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
