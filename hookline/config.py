"""Settings: defaults, overridden by a TOML file, overridden by `HOOKLINE_*` variables.

Pure: the caller reads the file and the environment and passes them in.
Every scalar setting has one environment name, `HOOKLINE_<SECTION>_<KEY>`
(top-level keys: `HOOKLINE_<KEY>`). Per-type tables (`[types.<name>]`) come
from the file only.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hookline.redact import mask_url

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


def env_name(section: str | None, key: str) -> str:
    """The environment variable that overrides one setting."""
    parts = ["HOOKLINE", *([section] if section else []), key]
    return "_".join(parts).upper()


def load_settings(
    *,
    file_text: str | None = None,
    file_name: str = "hookline.toml",
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    read_text: Callable[[Path], str] | None = None,
) -> Settings:
    """Build settings from a TOML document, the environment and explicit overrides.

    Raises:
        ValueError: a setting is unknown or has the wrong type; the message names it.
    """
    environ = environ or {}
    try:
        doc = tomllib.loads(file_text) if file_text else {}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{file_name}: {exc}") from exc

    known_top = {"database_url", "types", "handlers", *_SECTIONS}
    for key in doc:
        if key not in known_top:
            raise ValueError(f"{file_name}: unknown setting {key!r}")

    database_url = _coerce(
        "database_url", str, environ.get(env_name(None, "database_url"), doc.get("database_url"))
    )
    sections: dict[str, Any] = {}
    for section, cls in _SECTIONS.items():
        table = doc.get(section, {})
        if not isinstance(table, dict):
            raise ValueError(f"{file_name}: [{section}] must be a table")
        values: dict[str, Any] = {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in table:
            if key not in fields and (section, key) not in _RENAMED:
                raise ValueError(f"{file_name}: unknown setting {section}.{key}")
        for name, f in fields.items():
            raw = environ.get(env_name(section, name), table.get(name))
            if raw is None:
                raw = _renamed_value(section, name, table, environ)
            if raw is not None:
                values[name] = _coerce(f"{section}.{name}", _field_type(f), raw)
        sections[section] = cls(**values)

    types = {
        name: _type_settings(name, table, file_name, read_text)
        for name, table in _table(doc.get("types", {}), "types", file_name).items()
    }
    handlers_doc = _table(doc.get("handlers", {}), "handlers", file_name)
    handlers_source = file_name
    handlers_env = environ.get(env_name(None, "handlers"))
    if handlers_env:
        handlers_source = "HOOKLINE_HANDLERS"
        try:
            handlers_doc = json.loads(handlers_env)
        except ValueError as exc:
            raise ValueError(f"HOOKLINE_HANDLERS is not a JSON object: {exc}") from exc
        handlers_doc = _table(handlers_doc, "handlers", "HOOKLINE_HANDLERS")
    handlers = dict(DEFAULT_HANDLERS)
    for name, table in handlers_doc.items():
        handlers[name] = _handler_settings(name, table, handlers_source)
    settings = Settings(
        database_url=database_url or DEFAULT_DATABASE_URL,
        types=types,
        handlers=handlers,
        **sections,
    )
    if overrides:
        settings = dataclasses.replace(settings, **overrides)
    return checked(settings)


def _renamed_value(
    section: str, name: str, table: Mapping[str, Any], environ: Mapping[str, str]
) -> Any:
    """The value set under an old name of `section.name`, if any."""
    for (where, old), new in _RENAMED.items():
        if where == section and new == name:
            return environ.get(env_name(section, old), table.get(old))
    return None


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


def _handler_settings(name: str, table: Any, file_name: str) -> HandlerSettings:
    where = f"handlers.{name}"
    table = _table(table, where, file_name)
    fields = {f.name: f for f in dataclasses.fields(HandlerSettings)}
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in fields:
            raise ValueError(f"{file_name}: unknown setting {where}.{key}")
        if raw is None:
            raise ValueError(f"{file_name}: setting {where}.{key} must not be null")
        kind = str if key in ("kind", "url", "target") else _field_type(fields[key])
        values[key] = _coerce(f"{where}.{key}", kind, raw)
    handler = HandlerSettings(**values)
    if handler.kind not in HANDLER_KINDS:
        raise ValueError(
            f"setting {where}.kind: {handler.kind!r} is not one of {', '.join(HANDLER_KINDS)}"
        )
    if handler.kind == "http" and not (handler.url or "").startswith(("http://", "https://")):
        raise ValueError(f"setting {where}.url: an http handler needs an http(s):// URL")
    if handler.kind == "python" and not handler.target:
        raise ValueError(
            f"setting {where}.target: a python handler needs module:function or an entry point"
        )
    if (
        handler.timeout_s <= 0
        or handler.max_attempts < 1
        or handler.backoff_s < 0
        or handler.backoff_max_s < 0
    ):
        raise ValueError(
            f"setting {where}: timeout_s must be > 0, max_attempts >= 1, "
            "backoff_s and backoff_max_s >= 0"
        )
    return handler


def _table(value: Any, where: str, file_name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{file_name}: [{where}] must be a table")
    return value


def _type_settings(
    name: str, table: Any, file_name: str, read_text: Callable[[Path], str] | None
) -> TypeSettings:
    table = _table(table, f"types.{name}", file_name)
    unknown = set(table) - {"params_schema"}
    if unknown:
        raise ValueError(f"{file_name}: unknown setting types.{name}.{sorted(unknown)[0]}")
    schema = table.get("params_schema")
    if isinstance(schema, str):
        # A path to a JSON Schema document; the caller resolves and reads it.
        path = Path(schema)
        if read_text is None:
            raise ValueError(f"{file_name}: types.{name}.params_schema: paths need a config file")
        try:
            schema = json.loads(read_text(path))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"{file_name}: types.{name}.params_schema: cannot read {path}: {exc}"
            ) from exc
    if schema is not None and not isinstance(schema, dict):
        raise ValueError(
            f"{file_name}: types.{name}.params_schema must be a table or a path to a JSON file"
        )
    return TypeSettings(params_schema=schema)


def _field_type(f: dataclasses.Field[Any]) -> type[Any]:
    return {
        "int": int,
        "str": str,
        "float": float,
        "bool": bool,
        "tuple[float, ...]": _FloatList,
        "tuple[str, ...]": _StrList,
    }[str(f.type)]


class _FloatList(tuple[float, ...]):
    """A list setting of numbers: a TOML array, or a comma list in the environment."""


class _StrList(tuple[str, ...]):
    """A list setting of strings: a TOML array, or a comma list in the environment."""


def _coerce_list(name: str, kind: type[Any], raw: Any) -> tuple[Any, ...]:
    items = [p.strip() for p in raw.split(",") if p.strip()] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise ValueError(f"setting {name}: expected a list, got {raw!r}")
    item_kind = float if kind is _FloatList else str
    return tuple(_coerce(f"{name}[{i}]", item_kind, item) for i, item in enumerate(items))


def _coerce(name: str, kind: type[Any], raw: Any) -> Any:
    if raw is None:
        return None
    if kind in (_FloatList, _StrList):
        return _coerce_list(name, kind, raw)
    if isinstance(raw, str) and kind is not str:
        try:
            if kind is bool:
                lowered = raw.strip().lower()
                if lowered not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError(raw)
                return lowered in {"1", "true", "yes"}
            return kind(raw)
        except ValueError as exc:
            raise ValueError(f"setting {name}: {raw!r} is not a valid {kind.__name__}") from exc
    if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
        raise ValueError(f"setting {name}: expected {kind.__name__}, got {raw!r}")
    return raw


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


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as a dict, with credentials in URLs masked (see `mask_url`)."""
    out = dataclasses.asdict(settings)
    for key in _SECRET_KEYS:
        out[key] = mask_url(out[key])
    for handler in out["handlers"].values():
        if handler["url"]:
            handler["url"] = mask_url(handler["url"])
    return out
