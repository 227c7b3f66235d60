"""Session cookies and CSRF tokens (`hookline/ui/session.py`): pure, time passed in."""

from __future__ import annotations

import pytest

from hookline.ui import session

KEY_HASH = "a" * 64
NOW = 1_700_000_000.0
NONCE = bytes(range(16))


def _issued() -> str:
    return session.issue("0123456789ab", KEY_HASH, now_s=NOW, random_bytes=NONCE)


def test_issued_session_verifies_until_it_expires() -> None:
    """A session verifies for its key hash until SESSION_S have passed."""
    claimed = session.parse(_issued())
    assert claimed is not None
    assert claimed.key_id == "0123456789ab"
    assert session.verify(claimed, KEY_HASH, now_s=NOW + session.SESSION_S - 1)
    assert not session.verify(claimed, KEY_HASH, now_s=NOW + session.SESSION_S)


def test_session_of_another_key_hash_does_not_verify() -> None:
    """The MAC depends on the key's stored hash: another key cannot vouch for it."""
    claimed = session.parse(_issued())
    assert claimed is not None
    assert not session.verify(claimed, "b" * 64, now_s=NOW)


@pytest.mark.parametrize(
    ("change", "part"),
    [
        pytest.param(lambda v: str(int(v) + 3600), 1, id="longer-expiry"),
        pytest.param(lambda v: "1" * 12, 0, id="other-key-id"),
        pytest.param(lambda v: "f" * 32, 2, id="other-nonce"),
        pytest.param(lambda v: "0" * 64, 3, id="other-mac"),
    ],
)
def test_changed_cookie_does_not_verify(change: object, part: int) -> None:
    """Any change to a cookie's parts breaks its MAC."""
    parts = _issued().split(".")
    parts[part] = change(parts[part])  # type: ignore[operator]
    claimed = session.parse(".".join(parts))
    assert claimed is not None
    assert not session.verify(claimed, KEY_HASH, now_s=NOW)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("live_0123", id="a-key"),
        pytest.param("a.b.c.d", id="not-hex"),
        pytest.param(_issued() + ".x", id="extra-part"),
    ],
)
def test_malformed_cookie_is_no_session(value: str | None) -> None:
    """Values without a session's shape parse to None."""
    assert session.parse(value) is None


def test_csrf_token_differs_per_session() -> None:
    """Two sign-ins of one key carry different CSRF tokens."""
    first = session.parse(_issued())
    other = session.parse(
        session.issue("0123456789ab", KEY_HASH, now_s=NOW, random_bytes=b"\x01" * 16)
    )
    assert first is not None
    assert other is not None
    token = session.csrf_token(first, KEY_HASH)
    assert session.tokens_match(token, session.csrf_token(first, KEY_HASH))
    assert not session.tokens_match(token, session.csrf_token(other, KEY_HASH))


@pytest.mark.parametrize(
    ("expected", "given"),
    [
        pytest.param(None, None, id="both-missing"),
        pytest.param("", "", id="both-empty"),
        pytest.param("abc", None, id="given-missing"),
        pytest.param("abc", "abd", id="different"),
    ],
)
def test_tokens_that_do_not_match(expected: str | None, given: str | None) -> None:
    """Missing, empty or different tokens never match."""
    assert not session.tokens_match(expected, given)


def test_nonce_needs_16_bytes() -> None:
    """A short nonce is a programming error, refused loudly."""
    with pytest.raises(ValueError, match="16 random bytes"):
        session.issue("0123456789ab", KEY_HASH, now_s=NOW, random_bytes=b"x")
