"""Range checks of `Settings`, and the database URL in the form hookline connects with. Pure."""

from __future__ import annotations

import dataclasses
import ipaddress
from urllib.parse import urlsplit

from hookline.config.model import CallbacksSettings, RateLimitsSettings, Settings
from hookline.redact import mask_url


def checked(settings: Settings) -> Settings:
    """`settings` with its database URL in the form hookline connects with, once every
    value is in range (call it again after replacing values).

    Raises:
        ValueError: a value is out of range; the message names the setting.
    """
    settings = dataclasses.replace(settings, database_url=database_url(settings.database_url))
    _check(settings)
    return settings


_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_URL_FORMS = "sqlite:///PATH or postgresql://USER@HOST:PORT/DB"


def database_url(url: str) -> str:
    """The URL in the form hookline connects with: the plain `sqlite:///` and
    `postgresql://` (or libpq's `postgres://`) forms get the async drivers hookline
    ships, aiosqlite and asyncpg.

    Raises:
        ValueError: not a URL, another database, another driver or an in-memory SQLite.
    """
    scheme, sep, rest = url.strip().partition("://")
    backend, _, driver = scheme.lower().partition("+")
    backend = "postgresql" if backend == "postgres" else backend
    if not sep or not scheme:
        shown = url.rpartition("@")[2]
        raise ValueError(f"setting database_url: {shown!r} is not a URL; write {_URL_FORMS}")
    if backend not in _DRIVERS:
        raise ValueError(
            f"setting database_url: hookline works with SQLite or PostgreSQL, not {scheme}://; "
            f"write {_URL_FORMS}"
        )
    target = _DRIVERS[backend]
    if driver and f"{backend}+{driver}" != target:
        raise ValueError(
            f"setting database_url: hookline ships the {target.partition('+')[2]} driver, not "
            f"{driver}; write {mask_url(f'{backend}://{rest}')}"
        )
    if backend == "sqlite":
        path = rest.partition("?")[0]
        if not path.startswith("/"):
            raise ValueError(
                f"setting database_url: write sqlite:///{path or 'PATH'} "
                "(three slashes before a relative path, four before an absolute one)"
            )
        if path in ("/", "/:memory:"):
            raise ValueError(
                "setting database_url: an in-memory SQLite database would vanish at exit; "
                "write sqlite:///PATH"
            )
    return f"{target}://{rest}"


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite database URL (as `database_url` returns it); None for others."""
    prefix = f"{_DRIVERS['sqlite']}:///"
    return url[len(prefix) :].partition("?")[0] if url.startswith(prefix) else None


def _check(settings: Settings) -> None:
    if settings.limits.max_body_bytes < 1024:
        raise ValueError("setting limits.max_body_bytes: must be at least 1024")
    if settings.limits.max_tags < 0:
        raise ValueError("setting limits.max_tags: must not be negative")
    if settings.limits.max_metadata_bytes < 2:
        raise ValueError("setting limits.max_metadata_bytes: must be at least 2 (the size of {})")
    if not 0 < settings.server.port < 65536:
        raise ValueError(
            f"setting server.port: {settings.server.port} is not a port; "
            "choose one between 1 and 65535"
        )
    if not 0 < settings.server.header_timeout_s <= 3600:
        raise ValueError("setting server.header_timeout_s: must be > 0 and at most 3600 seconds")
    if not 0 < settings.server.body_timeout_s <= 86400:
        raise ValueError("setting server.body_timeout_s: must be > 0 and at most 86400 seconds")
    _check_public_url(settings.server.public_url)
    if settings.dispatcher.concurrency < 1 or settings.dispatcher.claim_size < 1:
        raise ValueError(
            "settings dispatcher.concurrency and claim_size (formerly batch_size): must be at least 1"
        )
    _check_callbacks(settings.callbacks)
    if settings.dispatcher.poll_s <= 0 or settings.dispatcher.drain_s < 0:
        raise ValueError("settings dispatcher.poll_s must be > 0 and dispatcher.drain_s >= 0")
    _check_idle_poll("dispatcher", settings.dispatcher.poll_s, settings.dispatcher.idle_poll_s)
    if settings.dispatcher.lease_s < 1:
        raise ValueError("setting dispatcher.lease_s: must be at least 1 second")
    if settings.database.pool_size < 1:
        raise ValueError("setting database.pool_size: must be at least 1")
    _check_rate_limits(settings.rate_limits)
    if settings.metrics.max_types < 0:
        raise ValueError("setting metrics.max_types: must not be negative")


def _check_public_url(url: str) -> None:
    if not url:
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"setting server.public_url: {url!r} is not a valid URL") from exc
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        raise ValueError(
            f"setting server.public_url: {url!r} must be an http(s):// base URL without query "
            "or fragment, e.g. https://hookline.example.com or https://example.com/hookline"
        )


def _check_callbacks(callbacks: CallbacksSettings) -> None:
    if not callbacks.schedule_s or any(d < 0 for d in callbacks.schedule_s):
        raise ValueError("setting callbacks.schedule_s: at least one delay, none negative")
    for network in callbacks.allow_networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValueError(
                f"setting callbacks.allow_networks: {network!r} is not a network (e.g. 127.0.0.0/8)"
            ) from exc
    if callbacks.timeout_s <= 0 or callbacks.lease_s <= callbacks.timeout_s:
        raise ValueError(
            "settings callbacks.timeout_s must be > 0 and callbacks.lease_s longer than it"
        )
    if min(callbacks.concurrency, callbacks.per_host_concurrency, callbacks.claim_size) < 1:
        raise ValueError(
            "settings callbacks.concurrency, per_host_concurrency and claim_size (formerly batch_size): at least 1"
        )
    if callbacks.poll_s <= 0 or callbacks.retry_after_max_s < 0 or callbacks.secret_grace_s < 0:
        raise ValueError(
            "settings callbacks.poll_s must be > 0; retry_after_max_s and secret_grace_s >= 0"
        )
    _check_idle_poll("callbacks", callbacks.poll_s, callbacks.idle_poll_s)


def _check_idle_poll(table: str, poll_s: float, idle_poll_s: float) -> None:
    # Below poll_s it means no back-off (a config with only a long poll_s stays valid).
    if not 0 < idle_poll_s <= 3600:
        raise ValueError(
            f"setting {table}.idle_poll_s: must be > 0 and at most 3600 seconds;"
            f" at or below {table}.poll_s ({poll_s:g}) polls keep a steady pace"
        )


def _check_rate_limits(limits: RateLimitsSettings) -> None:
    for scope in ("submit", "work", "audit", "read"):
        per_s, burst = getattr(limits, f"{scope}_per_s"), getattr(limits, f"{scope}_burst")
        if per_s < 0 or (per_s > 0 and burst < 1):
            raise ValueError(
                f"settings rate_limits.{scope}_per_s must be >= 0 (0: no limit) "
                f"and rate_limits.{scope}_burst at least 1"
            )
    if limits.failed_auth_per_minute < 0:
        raise ValueError("setting rate_limits.failed_auth_per_minute: must be >= 0 (0: no limit)")
    if limits.max_tracked < 1:
        raise ValueError("setting rate_limits.max_tracked: must be at least 1")
    for proxy in limits.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise ValueError(
                f"setting rate_limits.trusted_proxies: {proxy!r} is not an address or a network "
                "(e.g. 10.0.0.0/8)"
            ) from exc
