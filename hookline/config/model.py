"""The settings objects: one frozen dataclass per section, with their defaults.

Pure; `load` builds them from a file and the environment, `checks` checks their ranges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///hookline.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    reuse_port: bool = False
    """Bind with SO_REUSEPORT, so that several `hookline api` processes share one port."""
    header_timeout_s: float = 10.0
    """A request's line and headers must arrive within this long of its first byte (or of
    the connection); otherwise it is answered 408 and the connection closed (slowloris)."""
    body_timeout_s: float = 30.0
    """A request's body must arrive within this long once its headers have."""
    public_url: str = ""
    """The base URL clients reach the API at (e.g. behind a proxy), for upload attachment
    URLs; empty: `http://HOST:PORT` of this server. Never taken from a request's Host."""


def public_base_url(server: ServerSettings) -> str:
    """The base of URLs handed out to clients: `server.public_url`, or derived from host/port."""
    if server.public_url:
        return server.public_url.rstrip("/")
    host = server.host
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a bind-all address is no place to link to
        host = "127.0.0.1" if host != "::" else "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{server.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSettings:
    pool_size: int = 10
    max_overflow: int = 10
    busy_timeout_ms: int = 30_000
    pgbouncer: bool = False
    """Behind PgBouncer in transaction mode: no LISTEN (polling only), no prepared-statement cache."""
    startup_wait_s: float = 60.0
    """How long a starting process retries an unreachable database before giving up."""
    pre_ping: bool = False
    """Test each pooled PostgreSQL connection before use (three more round trips per
    transaction). Off, a dead connection fails one transaction (503) and the pool
    is renewed; turn it on where a firewall silently drops idle connections."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionSettings:
    attempts_days: float = 30.0
    """Delivery attempts of finished deliveries older than this are pruned (0 keeps them)."""
    interval_s: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsSettings:
    max_body_bytes: int = 10 * 1024 * 1024
    max_tags: int = 5
    max_metadata_bytes: int = 64 * 1024
    """Task and batch metadata, measured as JSON (400 above it)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FilesSettings:
    dir: str = "hookline-files"


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeSettings:
    """Per task type: a JSON Schema its params must satisfy (custom types only)."""

    params_schema: Mapping[str, Any] | None = None


HANDLER_KINDS = ("echo", "http", "python", "manual")


@dataclass(frozen=True, slots=True, kw_only=True)
class HandlerSettings:
    """How tasks of one type are worked (`[handlers.<type>]`)."""

    kind: str = "manual"
    url: str | None = None
    """http: the worker URL the task is POSTed to."""
    target: str | None = None
    """python: `module:function`, or an entry point name in group `hookline.handlers`."""
    timeout_s: float = 30.0
    max_attempts: int = 3
    backoff_s: float = 1.0
    """Delay before the second attempt; it doubles per attempt (with jitter) up to backoff_max_s."""
    backoff_max_s: float = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatcherSettings:
    concurrency: int = 64
    lease_s: float = 60.0
    claim_size: int = 50
    """Tasks claimed per claim transaction (formerly `batch_size`, still accepted)."""
    poll_s: float = 1.0
    idle_poll_s: float = 5.0
    """While polls find nothing, the wait between them doubles from poll_s up to this
    (at or below poll_s: no back-off). Only where other processes' work is announced
    (PostgreSQL with LISTEN; `serve` on SQLite, the one process that makes work);
    elsewhere polls stay poll_s apart."""
    claim_interval_s: float = 0.01
    """After a wake-up, claims start at least this far apart, so that a stream of new
    tasks is claimed in batches (one transaction each) rather than a few at a time."""
    drain_s: float = 10.0
    """On SIGTERM: how long in-flight tasks may finish before their leases are released."""


DEFAULT_SCHEDULE_S = (0.0, 5.0, 60.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbacksSettings:
    """The callback sender (`[callbacks]`)."""

    schedule_s: tuple[float, ...] = DEFAULT_SCHEDULE_S
    """Delay before each attempt (±20% jitter); its length is the number of attempts (~27 h)."""
    timeout_s: float = 15.0
    allow_networks: tuple[str, ...] = ()
    """Networks a callback may reach although they are private (e.g. 127.0.0.0/8 in development)."""
    concurrency: int = 256
    per_host_concurrency: int = 16
    retry_after_max_s: float = 3600.0
    claim_size: int = 100
    """Deliveries claimed per claim transaction (formerly `batch_size`, still accepted)."""
    lease_s: float = 60.0
    poll_s: float = 1.0
    idle_poll_s: float = 5.0
    """As dispatcher.idle_poll_s, for due deliveries."""
    claim_interval_s: float = 0.01
    """As dispatcher.claim_interval_s, for due deliveries."""
    secret_grace_s: float = 86400.0
    """After a webhook secret rotation, how long the old secret still signs too."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitsSettings:
    """Request limits of one API process (`[rate_limits]`); a rate of 0 turns that limit off."""

    enabled: bool = True
    submit_per_s: float = 1000.0
    """Per API key: requests a second to endpoints that need the submit scope."""
    submit_burst: int = 2000
    work_per_s: float = 1000.0
    work_burst: int = 2000
    audit_per_s: float = 1000.0
    audit_burst: int = 2000
    read_per_s: float = 1000.0
    """Per API key: requests a second to the endpoints any key may call (and the admin ones)."""
    read_burst: int = 2000
    failed_auth_per_minute: int = 30
    """Per client address: failed authentications a minute before it is answered 429 unread."""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    """Peers whose X-Forwarded-For names the client address; [] believes none."""
    max_tracked: int = 10_000
    """Keys, and separately client addresses, tracked at most (the least recent are forgotten)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsSettings:
    """`GET /metrics` (`[metrics]`), on the API and on a worker's health port."""

    max_types: int = 50
    """Task types named in metric labels; further types are counted as `other`."""
    require_key: bool = False
    """Ask an admin-scoped API key for `/metrics`; off, it is public (scrape on a private network)."""


DEFAULT_HANDLERS = {"echo": HandlerSettings(kind="echo")}


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    files: FilesSettings = field(default_factory=FilesSettings)
    types: Mapping[str, TypeSettings] = field(default_factory=dict)
    dispatcher: DispatcherSettings = field(default_factory=DispatcherSettings)
    callbacks: CallbacksSettings = field(default_factory=CallbacksSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    rate_limits: RateLimitsSettings = field(default_factory=RateLimitsSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    handlers: Mapping[str, HandlerSettings] = field(default_factory=lambda: dict(DEFAULT_HANDLERS))


_SECTIONS: dict[str, type[Any]] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "limits": LimitsSettings,
    "files": FilesSettings,
    "dispatcher": DispatcherSettings,
    "callbacks": CallbacksSettings,
    "retention": RetentionSettings,
    "rate_limits": RateLimitsSettings,
    "metrics": MetricsSettings,
}
_SECRET_KEYS = ("database_url",)
_RENAMED = {("dispatcher", "batch_size"): "claim_size", ("callbacks", "batch_size"): "claim_size"}
"""Old setting names still read, (section, old) -> new; the new name wins when both are set."""
