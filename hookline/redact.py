"""Credentials out of URLs before they are shown, logged or stored. Pure.

Every URL that hookline shows (config show, start-up logs, handler
descriptions) or writes where others read it (a task's error, its events)
goes through `mask_url` first.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

MASK = "***"

SECRET_PARAMS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "token",
        "secret",
        "key",
        "api_key",
        "apikey",
        "access_token",
        "auth",
        "authorization",
        "credential",
        "credentials",
        "sig",
        "signature",
    }
)
"""Query parameter names whose values are secrets (compared lower-case, `-` read as `_`)."""

_SECRET_SUFFIXES = ("_password", "_passwd", "_pwd", "_token", "_secret", "_key", "_signature")
"""`client_secret`, `refresh_token`, `x_api_key`, `X-Amz-Signature`, ... are secrets too."""


def is_secret_param(name: str) -> bool:
    """Whether a query parameter of this name carries a secret."""
    normal = unquote_plus(name).strip().lower().replace("-", "_")
    return normal in SECRET_PARAMS or normal.endswith(_SECRET_SUFFIXES)


def mask_url(url: str) -> str:
    """`url` with its password and the values of secret query parameters replaced by ***.

    The rest is kept as written (not re-encoded), so the URL stays recognisable.
    The user-info ends at the last `@` before the query, so a password holding
    an unencoded `@`, `:` or `/` is hidden whole.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    head, tail = rest[:cut], rest[cut:]
    userinfo, at, host = head.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        head = f"{user}:{MASK}@{host}" if colon else head
    return f"{scheme}://{head}{_mask_tail(tail)}"


def _mask_tail(tail: str) -> str:
    """Mask secret parameters in `?query` and in a `#fragment` shaped like one."""
    query, hash_, fragment = tail.partition("#")
    if query.startswith("?"):
        query = "?" + _mask_params(query[1:])
    if hash_ and "=" in fragment:
        fragment = _mask_params(fragment)
    return f"{query}{hash_}{fragment}"


def _mask_params(params: str) -> str:
    parts = []
    for part in params.split("&"):
        name, eq, _ = part.partition("=")
        parts.append(f"{name}={MASK}" if eq and is_secret_param(name) else part)
    return "&".join(parts)


def scrub(text: str, url: str, *forms: str) -> str:
    """`text` with every occurrence of `url` (and of other spellings of it) masked."""
    masked = mask_url(url)
    for form in sorted({url, *forms} - {masked}, key=len, reverse=True):
        if form:
            text = text.replace(form, masked)
    return text
